// A TCP balancer on loopback, as kube-proxy is in front of a Service's pods:
// each new connection goes to the next backend in turn; a connection stays on
// the backend it reached. Backends can be changed at run time (a replica
// added to or removed from the Service), and each can be given a delay each
// way (a replica in another zone).
import { connect, createServer, type Server, type Socket } from "node:net";

export interface Balancer {
  port: number;
  /** The backends new connections go to from now on; connections already open stay where they are. */
  setBackends(ports: readonly number[]): void;
  /** Delays every chunk to and from `port` by `ms` (0: none). */
  delay(port: number, ms: number): void;
  close(): Promise<void>;
}

/** `listen`: where it listens (default 127.0.0.1, any free port); another loopback address stands in for another host. */
export async function tcpBalancer(backends: readonly number[], listen: { host?: string; port?: number } = {}): Promise<Balancer> {
  let ports = [...backends];
  let turn = 0;
  const delays = new Map<number, number>();
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  // Order is kept: each chunk waits for the one before it, then for the delay.
  const relay = (from: Socket, to: Socket, port: number) => {
    let previous = Promise.resolve();
    from.on("data", (chunk) => {
      const ms = delays.get(port) ?? 0;
      if (ms === 0) {
        previous = previous.then(() => void to.write(chunk));
        return;
      }
      const due = Date.now() + ms;
      previous = previous.then(() => new Promise<void>((resolve) => setTimeout(() => (to.write(chunk), resolve()), due - Date.now())));
    });
  };
  const server: Server = createServer((client) => {
    track(client);
    const port = ports[turn++ % Math.max(1, ports.length)];
    if (port === undefined) return void client.destroy();
    const upstream = connect(port, "127.0.0.1");
    track(upstream);
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
    relay(client, upstream, port);
    relay(upstream, client, port);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port ?? 0, listen.host ?? "127.0.0.1", resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    setBackends: (next) => void (ports = [...next]),
    delay: (port, ms) => void delays.set(port, ms),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
