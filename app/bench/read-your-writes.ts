// How many read-your-writes reads does the writer answer? A client creates a
// team through tandem and reads it back (optionally after a short pause, as a
// client that does something in between), ROUNDS times, against a primary
// with two streaming replicas at the default health interval (5 s). Measured
// on the database side (pg_stat_statements): where the read-backs ran, with
// the on-demand replay check off (DATABASE_READ_YOUR_WRITES_CHECK_MS=0: such
// reads wait for a health cycle to see a replica with the write) and on (the
// default: the likeliest replica is asked), alternating in the same run.
//   npm run bench:ryw            (ROUNDS=200 PAUSES=0,20 REPEATS=2 override)
import { startMigratedPair, Witness } from "../test-support/pair.js";
import { startProxy } from "../test-support/proxy.js";

const ROUNDS = Number(process.env.ROUNDS ?? 200);
const PAUSES = (process.env.PAUSES ?? "0,20").split(",").map(Number);
const REPEATS = Number(process.env.REPEATS ?? 2);
const TEAM_READ = /^SELECT .*"tandem_team"/s;

const pair = await startMigratedPair({ replicas: 2 });
const witness = await Witness.open(pair);
const results = new Map<string, { writer: number; replicas: number; stale: number; ms: number }>();

async function measure(check: "off" | "on", pauseMs: number): Promise<void> {
  const proxy = await startProxy(
    {
      DATABASE_URL_READ_REPLICA: pair.replicas.map((r) => r.url).join(","),
      DATABASE_HEALTH_CHECK_INTERVAL_MS: "5000",
      DATABASE_READ_YOUR_WRITES_CHECK_MS: check === "on" ? "250" : "0",
      LOG_LEVEL: "error",
    },
    { pair },
  );
  try {
    let stale = 0;
    const started = performance.now();
    const where = await witness.during(TEAM_READ, async () => {
      for (let i = 0; i < ROUNDS; i++) {
        const team = await proxy.admin("/team/new", { body: { team_alias: `ryw-bench-${check}-${pauseMs}-${i}-${Date.now()}` } });
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
        const info = await proxy.admin(`/team/info?team_id=${String(team.json.team_id)}`);
        if (info.status !== 200) stale++;
      }
    });
    const key = `${check} ${pauseMs}`;
    const total = results.get(key) ?? { writer: 0, replicas: 0, stale: 0, ms: 0 };
    results.set(key, {
      writer: total.writer + where.writer,
      replicas: total.replicas + where.reader,
      stale: total.stale + stale,
      ms: total.ms + (performance.now() - started),
    });
  } finally {
    await proxy.stop();
  }
}

try {
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    for (const pause of PAUSES) {
      await measure("off", pause);
      await measure("on", pause);
    }
  }
  console.log(
    `read-your-writes benchmark: ${ROUNDS} × ${REPEATS} create-then-read rounds per row (POST /team/new, then GET /team/info), two replicas, 5 s health interval`,
  );
  console.log("  pause before the read | on-demand check | team reads on the writer | on replicas | writer share | stale | ms per round");
  for (const pause of PAUSES) {
    const shares: number[] = [];
    for (const check of ["off", "on"] as const) {
      const r = results.get(`${check} ${pause}`)!;
      const share = r.writer / Math.max(1, r.writer + r.replicas);
      shares.push(share);
      console.log(
        `  ${String(pause).padStart(5)} ms | ${check.padEnd(3)} | ${String(r.writer).padStart(5)} | ${String(r.replicas).padStart(5)} | ${(100 * share).toFixed(1).padStart(5)} % | ${r.stale} | ${(r.ms / (ROUNDS * REPEATS)).toFixed(2)}`,
      );
    }
    const [off, on] = shares as [number, number];
    console.log(`  ${pause} ms pause: the writer answers ${on > 0 ? (off / on).toFixed(1) : "∞"}× fewer of these reads with the check on`);
  }
} finally {
  pair.stop();
}
