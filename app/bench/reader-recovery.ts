// How does a reader outage feel to the reads, and how soon are reads back on
// the reader once it returns? 8 concurrent read loops run through tandem's
// routing client while the replica is stopped (a crash: `immediate`) and
// started again, CYCLES times. Reported: reads and failures during the
// outage, p50/p99/max read latency over the whole run, and the time from the
// replica accepting connections again to the first read the replica itself
// executed (pg_stat_statements), in health intervals.
// Then the reader hangs: every replica process is stopped (SIGSTOP) for
// HANG_MS under the same read loops, at the default health interval and read
// timeout: reported are failed reads, p99 and max latency through the hang,
// the time until the reader is marked unusable, and the time from SIGCONT to
// reads back on the reader.
//   npm run bench            (CYCLES=3 HEALTH_INTERVAL_MS=500 OUTAGE_MS=2000 HANG_MS=25000 override)
import { performance } from "node:perf_hooks";
import { openDatabase } from "../db/database.js";
import { createLogger } from "../observability/logger.js";
import { configFor, startMigratedPair, Witness } from "../test-support/pair.js";
import { freeze, thaw } from "../test-support/faults.js";

const CYCLES = Number(process.env.CYCLES ?? 3);
const INTERVAL_MS = Number(process.env.HEALTH_INTERVAL_MS ?? 500);
const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 2000);
const HANG_MS = Number(process.env.HANG_MS ?? 25_000);
const WORKERS = 8;
const TEAM = /"tandem_team"/;

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

const pair = await startMigratedPair();
try {
  const database = await openDatabase(configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: String(INTERVAL_MS) }), createLogger("error"));
  await database.db.team.createMany({ data: [{ team_alias: "r1" }, { team_alias: "r2" }] });
  await pair.waitForReplay();
  const witness = await Witness.open(pair);

  const latencies: number[] = [];
  let failures = 0;
  let running = true;
  const loops = Array.from({ length: WORKERS }, async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await database.db.team.findMany({ where: { team_alias: { startsWith: "r" } } });
      } catch {
        failures++;
      }
      latencies.push(performance.now() - t0);
    }
  });

  const backAfter: number[] = [];
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    await new Promise((r) => setTimeout(r, 1000));
    pair.replica.stop("immediate");
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    pair.replica.start(); // returns once the replica accepts connections
    const started = performance.now();
    await witness.reset();
    for (;;) {
      if ((await witness.count(TEAM)).reader > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    backAfter.push(performance.now() - started);
  }
  running = false;
  await Promise.all(loops);
  await database.close();

  console.log(
    `reader recovery benchmark: ${CYCLES} crash/restart cycles (${OUTAGE_MS} ms down), ${WORKERS} read loops, ${INTERVAL_MS} ms health interval`,
  );
  console.log(`  reads: ${latencies.length}, failed: ${failures}`);
  console.log(
    `  read latency ms: p50 ${quantile(latencies, 0.5).toFixed(1)}, p99 ${quantile(latencies, 0.99).toFixed(1)}, max ${Math.max(...latencies).toFixed(1)}`,
  );
  console.log(
    `  back on the reader after: ${backAfter.map((ms) => `${ms.toFixed(0)} ms (${(ms / INTERVAL_MS).toFixed(2)} intervals)`).join(", ")}`,
  );

  // The hang, at the defaults (5 s health interval, 1.5 s read timeout).
  const hung = await openDatabase(configFor(pair, { DATABASE_HEALTH_CHECK_INTERVAL_MS: "5000" }), createLogger("error"));
  const during: number[] = [];
  let hangFailures = 0;
  let inHang = false;
  running = true;
  const hangLoops = Array.from({ length: WORKERS }, async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await hung.db.team.findMany({ where: { team_alias: { startsWith: "r" } } });
      } catch {
        hangFailures++;
      }
      if (inHang) during.push(performance.now() - t0);
    }
  });
  await new Promise((r) => setTimeout(r, 1000));
  inHang = true;
  freeze(pair.replica);
  const frozenAt = performance.now();
  let unusableAfter = NaN;
  while (performance.now() - frozenAt < HANG_MS) {
    if (Number.isNaN(unusableAfter) && !hung.reader.usable) unusableAfter = performance.now() - frozenAt;
    await new Promise((r) => setTimeout(r, 10));
  }
  thaw(pair.replica);
  const thawedAt = performance.now();
  await witness.reset();
  while ((await witness.count(TEAM)).reader === 0) await new Promise((r) => setTimeout(r, 10));
  const hangBack = performance.now() - thawedAt;
  inHang = false;
  running = false;
  await Promise.all(hangLoops);
  const closeStarted = performance.now();
  await hung.close(2000);
  console.log(`reader hang benchmark: every replica process stopped (SIGSTOP) for ${HANG_MS} ms, ${WORKERS} read loops, defaults`);
  console.log(`  reads during the hang: ${during.length}, failed: ${hangFailures}`);
  console.log(
    `  latency ms: p50 ${quantile(during, 0.5).toFixed(1)}, p99 ${quantile(during, 0.99).toFixed(1)}, max ${Math.max(...during).toFixed(1)}, over 5 s: ${during.filter((ms) => ms > 5000).length}`,
  );
  console.log(`  reader unusable ${unusableAfter.toFixed(0)} ms after the stop; reads back on it ${hangBack.toFixed(0)} ms after SIGCONT`);
  console.log(`  close took ${(performance.now() - closeStarted).toFixed(0)} ms`);
} finally {
  pair.stop();
}
