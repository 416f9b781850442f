// A real redis-server on loopback for the fleet tests, started the way the
// tests start Postgres (Debian's redis-server; `make test` installs it).
// DEBUG is allowed from loopback: a test slows Redis with DEBUG SLEEP.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { freePort } from "../dev/local-pair.js";

export interface RedisServer {
  port: number;
  url: string;
  /** SIGSTOP: the connection stays open, nothing answers (a hung Redis). */
  freeze(): void;
  thaw(): void;
  /** SIGKILL, as a crashed Redis; `start()` brings it back on the same port, empty. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function redisBin(): string {
  for (const candidate of [process.env.REDIS_SERVER, "/usr/bin/redis-server", "/usr/local/bin/redis-server"])
    if (candidate && existsSync(candidate)) return candidate;
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim();
  if (found) return found;
  throw new Error("redis-server not found: install it (apt-get install redis-server) or set REDIS_SERVER");
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tandem-redis-"));
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(
      redisBin(),
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--enable-debug-command", "local"],
      {
        stdio: "ignore",
      },
    );
    await waitForPort(port);
  };
  const ended = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
    });
  const cleanup = () => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", cleanup);
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    freeze: () => void child?.kill("SIGSTOP"),
    thaw: () => void child?.kill("SIGCONT"),
    async kill() {
      const gone = ended();
      child?.kill("SIGKILL");
      await gone;
    },
    start: launch,
    async stop() {
      child?.kill("SIGCONT");
      const gone = ended();
      child?.kill("SIGTERM");
      await gone;
      process.removeListener("exit", cleanup);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What Redis has done so far, by its own count: commands (those inside scripts included) and its CPU, ms (user + system). */
export async function redisWork(redis: Redis): Promise<{ commands: number; cpuMs: number }> {
  const info = await redis.info();
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
  return { commands: field("total_commands_processed"), cpuMs: (field("used_cpu_user") + field("used_cpu_sys")) * 1000 };
}

/** Redis's count of calls of each command since the last CONFIG RESETSTAT (script's inner commands included). */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info("commandstats")).split("\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match) calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}
