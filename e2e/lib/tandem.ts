// HTTP calls to a tandem pod through a port-forward. One TCP connection per request (no
// keep-alive): a kept-alive connection that the server closes while the next request is on its
// way through the tunnel would show up as a failed request that tandem never saw.
import { Agent, request } from "node:http";

const agent = new Agent({ keepAlive: false });

export interface HttpResult {
  status: number;
  body: unknown;
  text: string;
}

export function call(
  base: string,
  method: string,
  path: string,
  { token, body, timeoutMs = 15_000 }: { token?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        timeout: timeoutMs,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload ? { "content-type": "application/json", "content-length": String(payload.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

export interface Readiness {
  status: number;
  writer?: string;
  reader?: string;
}

export const E2E_MODEL = "e2e-echo";
export const PRICES = { input: 0.000001, output: 0.000002 };

/** What the fake upstream charges for a single user message `content` (it counts words). */
export function expectedCost(content: string): number {
  const words = (s: string) => s.split(/\s+/).filter(Boolean).length;
  return words(content) * PRICES.input + words(`echo: ${content}`) * PRICES.output;
}

export class Tandem {
  constructor(
    readonly base: string,
    readonly masterKey: string,
  ) {}

  async readiness(): Promise<Readiness> {
    const r = await call(this.base, "GET", "/health/readiness", { timeoutMs: 5000 });
    const db = (r.body as { db?: { writer?: string; reader?: string } }).db;
    return { status: r.status, writer: db?.writer, reader: db?.reader };
  }

  /** Each reader instance by host:port (readiness lists them when there are several), with the address it is behind and how it was found. */
  async readers(): Promise<Record<string, { state: string; lag_ms?: number; address?: string; found_by?: string; pod?: string }>> {
    const r = await call(this.base, "GET", "/health/readiness", { timeoutMs: 5000 });
    return (r.body as { db?: { readers?: Record<string, { state: string; lag_ms?: number }> } }).db?.readers ?? {};
  }

  /** `reader_lag_ms` of the readiness answer (present while the reader's lag is measured). */
  async readerLagMs(): Promise<number | undefined> {
    const r = await call(this.base, "GET", "/health/readiness", { timeoutMs: 5000 });
    return (r.body as { db?: { reader_lag_ms?: number } }).db?.reader_lag_ms;
  }

  deleteKeys(keys: string[]): Promise<HttpResult> {
    return call(this.base, "POST", "/key/delete", { token: this.masterKey, body: { keys } });
  }

  async generateKey(body: Record<string, unknown>): Promise<{ key: string; result: HttpResult }> {
    const result = await call(this.base, "POST", "/key/generate", { token: this.masterKey, body });
    const key = (result.body as { key?: unknown }).key;
    if (result.status !== 200 || typeof key !== "string")
      throw new Error(`POST /key/generate: ${result.status} ${result.text.slice(0, 300)}`);
    return { key, result };
  }

  keyInfo(key: string, as: string = this.masterKey): Promise<HttpResult> {
    return call(this.base, "GET", `/key/info?key=${encodeURIComponent(key)}`, { token: as });
  }

  chat(key: string, content: string): Promise<HttpResult> {
    return call(this.base, "POST", "/v1/chat/completions", {
      token: key,
      body: { model: E2E_MODEL, messages: [{ role: "user", content }] },
      timeoutMs: 30_000,
    });
  }
}
