// What the benchmarks share: child processes that say when they are ready,
// free ports, a process's CPU time from /proc, medians.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import type { LocalPair } from "../test-support/pair.js";

export const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || !address) throw new Error("no free port");
  return address.port;
}

/** Starts a child that prints one line (its URL) when ready. */
export function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  node = process.execPath,
): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn(node, args, { env, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (firstLine) => {
      child.stdout!.resume();
      resolve({ child, firstLine });
    });
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code} before it was ready`)));
  });
}

export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

export function cpuTicks(pid: number): number {
  // Fields after the command name (which may hold spaces) start at state; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU a process has used so far, ms. */
export const cpuMs = (pid: number) => (cpuTicks(pid) * 1000) / CLOCK_TICKS_PER_S;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
export const fmt = (x: number | undefined, digits = 1) => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));

/** The benchmarks' CONFIG_FILE: one priced model group on the upstream. */
export function benchConfig(model: string, upstreamUrl: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "tandem-bench-")), "config.yaml");
  writeFileSync(
    file,
    [
      "model_list:",
      `  - model_name: ${model}`,
      "    litellm_params:",
      "      model: openai/echo",
      `      api_base: ${upstreamUrl}`,
      "    model_info:",
      "      input_cost_per_token: 0.00000015",
      "      output_cost_per_token: 0.0000006",
      "",
    ].join("\n"),
  );
  return file;
}

/**
 * `tandem serve` on the pair, as the image runs it (its malloc settings unless the caller sets its
 * own; `args`: node's flags and the entry point); resolves once ready.
 */
export async function startBenchTandem(options: {
  pair: LocalPair;
  configFile: string;
  masterKey: string;
  args: string[];
  children: ChildProcess[];
  env?: Record<string, string>;
}): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  // BENCH_TANDEM_NODE: the node binary tandem runs on (the image's Node 22, say), the harness's own by default.
  const child = spawn(process.env.BENCH_TANDEM_NODE ?? process.execPath, [...options.args, "serve"], {
    env: {
      MALLOC_ARENA_MAX: "2",
      MALLOC_TRIM_THRESHOLD_: "131072",
      ...process.env,
      DATABASE_URL: options.pair.primary.url,
      DATABASE_URL_READ_REPLICA: options.pair.replica.url,
      MASTER_KEY: options.masterKey,
      CONFIG_FILE: options.configFile,
      PORT: String(port),
      LOG_LEVEL: "warn",
      ...options.env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  options.children.push(child);
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/health/readiness`);
  return { child, base };
}
