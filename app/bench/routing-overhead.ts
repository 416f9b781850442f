// What does routing cost per read? The same findUnique, interleaved in
// rounds, through (a) a plain PrismaClient on the reader — the baseline — and
// (b) tandem's routing client, which sends it to that same reader. Both run
// in this process, on one real primary/replica pair, so machine noise hits
// both alike; the result is reported as a ratio to the baseline.
//   npm run bench            (ROUNDS, OPS_PER_ROUND, CONCURRENCY override)
import { performance } from "node:perf_hooks";
import { openDatabase } from "../db/database.js";
import { createEndpoint } from "../db/endpoint.js";
import { createLogger } from "../observability/logger.js";
import { configFor, startMigratedPair } from "../test-support/pair.js";
import type { PrismaClient } from "../generated/prisma/client.js";

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const OPS = Number(process.env.OPS_PER_ROUND ?? 400);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8);

type Read = (token: string) => Promise<unknown>;

async function round(read: Read, tokens: string[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < OPS) {
        const i = next++;
        await read(tokens[i % tokens.length] ?? "");
      }
    }),
  );
  return (performance.now() - started) / OPS; // ms per op
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const log = createLogger("warn");
const pair = await startMigratedPair();
try {
  const config = configFor(pair, { DATABASE_CONNECTION_POOL_LIMIT: String(CONCURRENCY) });
  const database = await openDatabase(config, log);
  const direct = createEndpoint(config.readers[0]!, { poolLimit: CONCURRENCY, log });
  const tokens = Array.from({ length: 200 }, (_, i) => `bench-token-${i}`);
  await database.db.virtualKey.createMany({ data: tokens.map((token) => ({ token, key_name: "sk-...bench" })) });
  await pair.waitForReplay();

  const baseline: Read = (token) => (direct.client as PrismaClient).virtualKey.findUnique({ where: { token } });
  const routed: Read = (token) => database.db.virtualKey.findUnique({ where: { token } });
  await round(baseline, tokens);
  await round(routed, tokens);

  const results = { baseline: [] as number[], routed: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so neither side always runs on a warmer cache.
    const order: Array<"baseline" | "routed"> = r % 2 === 0 ? ["baseline", "routed"] : ["routed", "baseline"];
    for (const side of order) results[side].push(await round(side === "baseline" ? baseline : routed, tokens));
  }
  const b = median(results.baseline);
  const t = median(results.routed);
  console.log(`routing overhead benchmark: ${ROUNDS} rounds × ${OPS} findUnique, concurrency ${CONCURRENCY}, same reader`);
  console.log(`  baseline (plain PrismaClient on the reader): median ${(b * 1000).toFixed(1)} µs/op`);
  console.log(`  tandem routing client:                      median ${(t * 1000).toFixed(1)} µs/op`);
  console.log(`  ratio routed/baseline: ${(t / b).toFixed(3)}`);
  await direct.close();
  await database.close();
} finally {
  pair.stop();
}
