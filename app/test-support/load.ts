// Helpers of the fault tests: wait for an event with a generous bound, and a
// concurrent read loop that keeps every latency and failure.
import { performance } from "node:perf_hooks";

/** Bounds for events on a busy machine: without the behaviour under test these waits would run into minutes. */
export const EVENT_BOUND_MS = 30_000;

/** Waits until `predicate` holds; returns how long that took. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = EVENT_BOUND_MS): Promise<number> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

export interface LoadResult {
  reads: number;
  failures: unknown[];
  max: number;
  p99: number;
}

/** `workers` concurrent loops of `read` until `stop()`. */
export function readLoad(read: () => Promise<unknown>, workers = 8) {
  let running = true;
  const latencies: number[] = [];
  const failures: unknown[] = [];
  const done = Promise.all(
    Array.from({ length: workers }, async () => {
      while (running) {
        const t0 = performance.now();
        try {
          await read();
        } catch (error) {
          failures.push(error);
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return {
    latencies,
    failures,
    async stop(): Promise<LoadResult> {
      running = false;
      await done;
      const sorted = [...latencies].sort((a, b) => a - b);
      return { reads: sorted.length, failures, max: sorted.at(-1) ?? 0, p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
    },
  };
}

/**
 * Waits until a reader set lists `count` instances and each has connected:
 * an instance is listed as soon as it is found, but serves reads only once its
 * first health check answers, so a spread measured before that is one-sided.
 */
export function readersConnected(reader: { members: readonly { state: { status: string } }[] }, count: number, what: string) {
  return until(() => reader.members.length === count && reader.members.every((m) => m.state.status === "connected"), what);
}
