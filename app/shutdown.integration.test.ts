// The real `tandem serve` process, as the container runs it: SIGTERM during a
// stream lets the stream finish, then the process exits 0.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeUpstream, type FakeUpstream } from "./dev/fake-upstream.js";
import { startMigratedPair, assertNoSecrets, type LocalPair } from "./test-support/pair.js";
import { MASTER_KEY, modelConfig } from "./test-support/proxy.js";
import { serve } from "./test-support/process.js";
import { spawn } from "node:child_process";
import { appRoot } from "./paths.js";

/** A streamed completion from the fake upstream's `slow` model: one word every 100 ms. */
async function slowStream(base: string, words: number) {
  const content = Array.from({ length: words }, (_, i) => `w${i}`).join(" ");
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "slow-model", stream: true, messages: [{ role: "user", content }] }),
  });
  return res.body!.getReader();
}

describe("tandem serve as a process", () => {
  let pair: LocalPair;
  let upstream: FakeUpstream;
  let configFile: string;

  before(async () => {
    pair = await startMigratedPair();
    upstream = await startFakeUpstream();
    configFile = join(mkdtempSync(join(tmpdir(), "tandem-cfg-")), "config.yaml");
    writeFileSync(configFile, modelConfig(upstream.url));
  });
  after(async () => {
    await upstream?.close();
    pair?.stop();
  });

  const env = () => ({
    DATABASE_URL: pair.primary.url,
    DATABASE_URL_READ_REPLICA: pair.replica.url,
    MASTER_KEY,
    CONFIG_FILE: configFile,
    FAKE_UPSTREAM_KEY: "sk-upstream-secret",
    PORT: "0",
  });

  it("SIGTERM during a stream: readiness turns 503, the stream completes, then the process exits 0", async () => {
    const tandem = await serve({ ...env(), SHUTDOWN_DELAY_MS: "300", SHUTDOWN_TIMEOUT_MS: "10000" });
    const base = `http://127.0.0.1:${tandem.port}`;
    const reader = await slowStream(base, 12);
    let text = new TextDecoder().decode((await reader.read()).value);

    const signalled = Date.now();
    tandem.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    const readiness = await fetch(`${base}/health/readiness`);
    assert.equal(readiness.status, 503, "draining: load balancers are told to stop sending");

    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    assert.match(text, /data: \[DONE\]/, "the stream ran to its end");
    assert.ok(text.includes('"content":" w11"'), "every word arrived");
    assert.equal(await tandem.exit, 0);
    const tookMs = Date.now() - signalled;
    assert.ok(
      !tandem.lines.some((l) => l.includes("drain timeout reached")),
      `exited ${tookMs} ms after SIGTERM: once the stream ended, not at the 10 s drain timeout`,
    );
    assert.ok(tandem.lines.some((l) => l.includes("shutdown complete")));
    await assert.rejects(fetch(`${base}/health/liveliness`), "no new connections after exit");
    assertNoSecrets(tandem.lines, [pair.appPassword, MASTER_KEY, "sk-upstream-secret"]);
  });

  it("a stream longer than the drain timeout is cut at the timeout and the process still exits 0", async () => {
    const tandem = await serve({ ...env(), SHUTDOWN_TIMEOUT_MS: "300" });
    await (await slowStream(`http://127.0.0.1:${tandem.port}`, 40)).read();
    tandem.child.kill("SIGTERM");
    assert.equal(await tandem.exit, 0);
    assert.ok(
      tandem.lines.some((l) => l.includes("drain timeout reached")),
      "the 4 s stream was cut at the 300 ms drain timeout, not waited for",
    );
  });

  it("bad environment: one line on stderr naming the variable, exit 1, no secret echoed", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(appRoot, "app", "cli.ts"), "serve"], {
      env: { PATH: process.env.PATH, DATABASE_URL: pair.primary.url, MASTER_KEY, DATABASE_CONNECTION_POOL_LIMIT: "lots" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise((resolve) => child.on("exit", resolve));
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(stderr, "tandem: DATABASE_CONNECTION_POOL_LIMIT must be an integer between 1 and 1000\n");
  });

  it("a bad CONFIG_FILE stops the start with a clear error naming the entry; an entry tandem cannot serve does so under CONFIG_FILE_STRICT", async () => {
    const start = async (text: string, extra: Record<string, string> = {}) => {
      const file = join(mkdtempSync(join(tmpdir(), "tandem-cfg-")), "config.yaml");
      writeFileSync(file, text);
      const child = spawn(process.execPath, ["--import", "tsx", join(appRoot, "app", "cli.ts"), "serve"], {
        env: { PATH: process.env.PATH, ...env(), CONFIG_FILE: file, ...extra },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      // A process that serves instead of stopping is the failure: it is killed, not waited for.
      const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      const code = await new Promise((resolve) => child.on("exit", resolve));
      clearTimeout(killer);
      return { code, stderr };
    };
    const malformed = await start("router_settings:\n  num_retries: lots\n");
    assert.equal(malformed.code, 1, malformed.stderr);
    assert.match(malformed.stderr, /^tandem: CONFIG_FILE .*config\.yaml: router_settings\.num_retries .*\n$/);
    const unservable = "model_list:\n  - model_name: x\n    litellm_params:\n      model: openai/x\n      api_base: not-a-url\n";
    const strict = await start(unservable, { CONFIG_FILE_STRICT: "true" });
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(
      strict.stderr,
      /^tandem: CONFIG_FILE .*config\.yaml: model_list\[0\]\.litellm_params\.api_base must be an http\(s\) URL\n$/,
    );
  });

  it("LiteLLM's master key sources: general_settings.master_key (os.environ/), else LITELLM_MASTER_KEY; unimplemented settings named once at startup", async () => {
    const litellmConfig = join(mkdtempSync(join(tmpdir(), "tandem-cfg-")), "config.yaml");
    writeFileSync(
      litellmConfig,
      `${modelConfig(upstream.url)}\ngeneral_settings:\n  master_key: os.environ/PROXY_MASTER_KEY\n  alerting: [slack]\nlitellm_settings:\n  success_callback: [langfuse]\n`,
    );
    const { MASTER_KEY: _unset, ...noMasterKey } = env();
    for (const [variables, key] of [
      [{ CONFIG_FILE: litellmConfig, PROXY_MASTER_KEY: "sk-from-general-settings" }, "sk-from-general-settings"],
      [{ LITELLM_MASTER_KEY: "sk-from-litellm-variable" }, "sk-from-litellm-variable"],
      // LiteLLM's chart puts the key in PROXY_MASTER_KEY; tandem's chart sets MASTER_KEY, which wins.
      [{ CONFIG_FILE: litellmConfig, MASTER_KEY: "sk-from-master-key-variable" }, "sk-from-master-key-variable"],
    ] as const) {
      const tandem = await serve({ ...noMasterKey, ...variables });
      try {
        const base = `http://127.0.0.1:${tandem.port}`;
        const ok = await fetch(`${base}/key/generate`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: "{}",
        });
        assert.equal(ok.status, 200, `${key} is the master key`);
        const wrong = await fetch(`${base}/key/generate`, { method: "POST", headers: { authorization: "Bearer sk-not-the-master-key" } });
        assert.equal(wrong.status, 401);
        if ("CONFIG_FILE" in variables) {
          const warnings = tandem.lines.filter((l) => l.includes("is not implemented by tandem"));
          assert.equal(warnings.length, 2, warnings.join("\n"));
          assert.ok(warnings.some((l) => l.includes("general_settings.alerting")));
          assert.ok(warnings.some((l) => l.includes("litellm_settings.success_callback")));
        }
        assertNoSecrets(tandem.lines, [key]);
      } finally {
        tandem.child.kill("SIGTERM");
        await tandem.exit;
      }
    }
  });
});
