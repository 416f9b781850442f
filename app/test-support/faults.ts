// Real faults for the replica-layer tests: a server frozen with SIGSTOP (every
// process of it, as a hung host looks), replay paused on a standby, and a TCP
// hop that can turn into a blackhole (connections accepted, nothing answered).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, connect, type Server, type Socket } from "node:net";
import { join } from "node:path";
import pg from "pg";
import type { PgServer } from "../dev/local-pair.js";

function processesOf(server: PgServer): number[] {
  const postmaster = Number(readFileSync(join(server.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  let children: number[] = [];
  try {
    children = execFileSync("pgrep", ["-P", String(postmaster)], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    // pgrep exits 1 when there are no children
  }
  return [postmaster, ...children];
}

/** SIGSTOP to the postmaster and every backend: connections stay open, nothing answers. */
export function freeze(server: PgServer): void {
  for (const pid of processesOf(server)) signal(pid, "SIGSTOP");
}

export function thaw(server: PgServer): void {
  for (const pid of processesOf(server)) signal(pid, "SIGCONT");
}

/** A backend may exit between the listing and the signal (ESRCH): it needs none then. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

async function onStandby(server: PgServer, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export const pauseReplay = (replica: PgServer) => onStandby(replica, "SELECT pg_wal_replay_pause()");
export const resumeReplay = (replica: PgServer) => onStandby(replica, "SELECT pg_wal_replay_resume()");

export interface TcpHop {
  port: number;
  /** From now on: new connections are accepted and never answered; open ones go silent both ways. */
  blackhole(): void;
  /** Forward again. Bytes swallowed meanwhile are lost: connections open during the blackhole are broken, as after a real partition. */
  heal(): void;
  /**
   * New connections go to `port` from now on, as when DNS moves a cluster
   * endpoint. `dropOpen` also cuts the connections open now (the old server
   * restarted, as a demoted Aurora writer does); without it they stay on
   * the old server.
   */
  retarget(port: number, options?: { dropOpen?: boolean }): void;
  close(): Promise<void>;
}

/** A TCP forwarder on loopback in front of a server, which can become a blackhole or move to another server. */
export async function tcpHop(targetPort: number): Promise<TcpHop> {
  let holed = false;
  let target = targetPort;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => undefined);
    if (holed) return; // accepted, never answered
    const upstream = connect(target, "127.0.0.1");
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    // Forward while healthy; once blackholed, bytes are swallowed in both directions.
    client.on("data", (chunk) => {
      if (!holed) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!holed) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    blackhole: () => void (holed = true),
    heal: () => void (holed = false),
    retarget: (port, options = {}) => {
      target = port;
      if (options.dropOpen) for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
