// A running tandem (in-process, real HTTP) on a real primary/replica pair,
// forwarding to a local fake upstream.
import { startFakeUpstream, type FakeUpstream } from "../dev/fake-upstream.js";
import { parseProxyConfig } from "../config/model-config.js";
import { startServer, type RunningServer } from "../server.js";
import { captureLogs, type CapturedLogs } from "./logs.js";
import { configFor, startMigratedPair, type LocalPair } from "./pair.js";

export const MASTER_KEY = "sk-master-test-key";
export const PRICES = { input: 0.00000015, output: 0.0000006 };

export interface Proxy {
  pair: LocalPair;
  upstream: FakeUpstream;
  tandem: RunningServer;
  logs: CapturedLogs;
  base: string;
  admin(path: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; json: Record<string, unknown> }>;
  /** The rows of `/spend/logs?<query>` once `until` holds (spend is written in batches, after the response; 30 s at most). */
  spendRows(query: string, until: (rows: Array<Record<string, unknown>>) => boolean): Promise<Array<Record<string, unknown>>>;
  /**
   * The replica has replayed everything and tandem's health cycle has seen
   * it: reads that depend on this pod's earlier writes go to the replica again
   * (until then read-your-writes sends them to the writer).
   */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** One `model_list` entry in LiteLLM's format, priced at PRICES. */
export function modelEntry(
  name: string,
  upstreamModel: string,
  apiBase: string,
  options: { timeout?: number; id?: string; mode?: string; rpm?: number; params?: Record<string, string | number | boolean> } = {},
): string[] {
  return [
    `  - model_name: ${name}`,
    "    litellm_params:",
    `      model: openai/${upstreamModel}`,
    `      api_base: ${apiBase}`,
    "      api_key: os.environ/FAKE_UPSTREAM_KEY",
    `      timeout: ${options.timeout ?? 30}`,
    ...(options.rpm ? [`      rpm: ${options.rpm}`] : []),
    ...Object.entries(options.params ?? {}).map(([name, value]) => `      ${name}: ${value}`),
    "    model_info:",
    ...(options.id ? [`      id: ${options.id}`] : []),
    ...(options.mode ? [`      mode: ${options.mode}`] : []),
    `      input_cost_per_token: ${PRICES.input}`,
    `      output_cost_per_token: ${PRICES.output}`,
  ];
}

/** The models every proxy test can use; `extra` adds entries (more model_list items) and sections after them. */
export function modelConfig(upstreamUrl: string, timeoutSeconds = 30, extra: { models?: string[]; sections?: string } = {}): string {
  const model = (name: string, upstreamModel: string, apiBase = upstreamUrl, timeout = timeoutSeconds) =>
    modelEntry(name, upstreamModel, apiBase, { timeout });
  return [
    "model_list:",
    ...model("gpt-4o-mini", "echo"),
    ...model("slow-model", "slow"),
    ...model("limited", "fail-429"),
    ...model("hanging", "hang", upstreamUrl, 1),
    ...model("resetting", "reset"),
    ...model("unreachable", "echo", "http://127.0.0.1:9/v1"),
    ...(extra.models ?? []),
    extra.sections ?? "",
  ].join("\n");
}

export async function startProxy(
  env: Record<string, string> = {},
  options: {
    timeoutSeconds?: number;
    pair?: LocalPair;
    extraConfig?: (upstreamUrl: string) => { models?: string[]; sections?: string };
  } = {},
): Promise<Proxy> {
  const pair = options.pair ?? (await startMigratedPair());
  const upstream = await startFakeUpstream();
  const logs = captureLogs("info");
  const config = configFor(pair, { PORT: "0", ...env });
  const proxy = parseProxyConfig(modelConfig(upstream.url, options.timeoutSeconds, options.extraConfig?.(upstream.url)), "test config", {
    FAKE_UPSTREAM_KEY: "sk-upstream-secret",
  });
  const tandem = await startServer(config, proxy, logs.logger);
  const base = `http://127.0.0.1:${tandem.port}`;
  const running: Proxy = {
    pair,
    upstream,
    tandem,
    logs,
    base,
    async admin(path, init = {}) {
      const res = await fetch(`${base}${path}`, {
        method: init.method ?? (init.body ? "POST" : "GET"),
        headers: { authorization: `Bearer ${MASTER_KEY}`, "content-type": "application/json" },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },
    async spendRows(query, until) {
      return eventually(
        async () => (await running.admin(`/spend/logs${query ? `?${query}` : ""}`)).json as unknown as Array<Record<string, unknown>>,
        until,
        30_000,
      );
    },
    async caughtUp() {
      await pair.waitForReplay();
      await eventually(
        async () => tandem.database.consistency.readerMissIsFinal(),
        (final) => final,
        30_000,
      );
    },
    async stop() {
      await tandem.shutdown(2000);
      await upstream.close();
      if (!options.pair) pair.stop();
    },
  };
  return running;
}

export async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
    value = await probe();
  }
  return value;
}
