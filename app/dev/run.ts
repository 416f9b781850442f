// `make run`: a local primary + streaming replica, migrated, a demo upstream,
// and tandem on :4000 — everything a first try needs, on one machine.
import { randomBytes } from "node:crypto";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config/env.js";
import { loadProxyConfig } from "../config/model-config.js";
import { migrate } from "../db/migrate.js";
import { describeUrl } from "../db/url.js";
import { createLogger } from "../observability/logger.js";
import { migrationsDir } from "../paths.js";
import { startServer } from "../server.js";
import { startFakeUpstream } from "./fake-upstream.js";
import { startLocalPair } from "./local-pair.js";

const pair = await startLocalPair();
const upstream = process.env.CONFIG_FILE ? undefined : await startFakeUpstream();
let configFile = process.env.CONFIG_FILE;
if (upstream) {
  configFile = join(mkdtempSync(join(tmpdir(), "tandem-config-")), "config.yaml");
  writeFileSync(
    configFile,
    [
      "model_list:",
      "  - model_name: demo-echo",
      "    litellm_params:",
      // The echo upstream answers any model name; gpt-4o's list price comes from the price database,
      // so the demo's spend is real money-shaped numbers without a price in the config.
      "      model: openai/gpt-4o",
      `      api_base: ${upstream.url}`,
      "",
    ].join("\n"),
  );
}
const masterKey = process.env.MASTER_KEY ?? `sk-${randomBytes(16).toString("hex")}`;
const env = {
  ...process.env,
  DATABASE_URL: pair.primary.url,
  DATABASE_URL_READ_REPLICA: pair.replica.url,
  MASTER_KEY: masterKey,
  CONFIG_FILE: configFile,
};
const config = loadConfig(env);
const log = createLogger(config.logLevel);
await migrate(config.writer, { dir: migrationsDir, log });
const running = await startServer(config, loadProxyConfig(config.configFile, env), log);

const base = `http://localhost:${running.port}`;
process.stderr.write(
  [
    "",
    "tandem is running",
    `  proxy         ${base}  (OpenAI base URL: ${base}/v1)`,
    `  master key    ${masterKey}`,
    `  admin UI      ${base}/ui  (sign in with the master key)`,
    `  writer DB     ${describeUrl(pair.primary.url)}`,
    `  reader DB     ${describeUrl(pair.replica.url)}  (streaming replica)`,
    upstream ? `  demo model    demo-echo (a local echo upstream at ${upstream.url})` : `  config        ${configFile}`,
    "",
    "  try:",
    `    curl -s ${base}/health/readiness`,
    `    curl -s ${base}/key/generate -H "Authorization: Bearer ${masterKey}" -H 'content-type: application/json' -d '{"models":["demo-echo"]}'`,
    "",
    "  Ctrl-C stops tandem and removes the databases.",
    "",
  ].join("\n"),
);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void running
    .shutdown(5000)
    .finally(() => upstream?.close())
    .finally(() => {
      pair.stop();
      process.exit(0);
    });
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
