// Replicas as separate hosts: each behind a TCP hop on its own loopback
// address (127.0.0.2, .3, …), all on one port, as pods behind a Service or
// Aurora's instances are — so a host name can be given one record per replica.
import { createServer } from "node:net";
import type { LocalPair } from "../dev/local-pair.js";
import { tcpBalancer, type Balancer } from "./balancer.js";

export interface ReplicaHosts {
  /** The address of each replica, in the pair's order. */
  hosts: string[];
  port: number;
  /** The application's reader URL at `host` (a replica's address, or a name resolving to some) on the shared port. */
  urlAt(host: string): string;
  close(): Promise<void>;
}

export async function replicasOnLoopbackHosts(pair: LocalPair): Promise<ReplicaHosts> {
  const hosts = pair.replicas.map((_, i) => `127.0.0.${i + 2}`);
  const port = await portFreeOn(hosts);
  const hops: Balancer[] = await Promise.all(pair.replicas.map((replica, i) => tcpBalancer([replica.port], { host: hosts[i], port })));
  const urlAt = (host: string) => {
    const url = new URL(pair.replica.url);
    url.hostname = host;
    url.port = String(port);
    return url.toString();
  };
  return { hosts, port, urlAt, close: async () => void (await Promise.all(hops.map((hop) => hop.close()))) };
}

/** A port free on every one of `hosts`. */
async function portFreeOn(hosts: readonly string[]): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, hosts[0], () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    const free = await Promise.all(
      hosts.map(
        (host) =>
          new Promise<boolean>((resolve) => {
            const server = createServer();
            server.once("error", () => resolve(false));
            server.listen(port, host, () => server.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return port;
  }
}
