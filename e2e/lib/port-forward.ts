// A local TCP port forwarded to a pod's port through the API server (client-node's PortForward,
// one WebSocket per TCP connection), like `kubectl port-forward pod/NAME :PORT`.
import { createServer, type Server, type Socket } from "node:net";
import { Writable } from "node:stream";
import * as k8s from "@kubernetes/client-node";

export interface Forward {
  /** http://127.0.0.1:<local port> */
  base: string;
  pod: string;
  /** Connections whose tunnel failed (error channel or WebSocket error), with the reason. */
  errors: string[];
  close(): Promise<void>;
}

export async function portForward(kc: k8s.KubeConfig, namespace: string, pod: string, port: number): Promise<Forward> {
  const forwarder = new k8s.PortForward(kc);
  const errors: string[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // The pod's error channel: a message there means this connection failed on the pod's side.
    const errorChannel = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const text = chunk.toString("utf8").trim();
        if (text) {
          errors.push(text);
          socket.destroy();
        }
        done();
      },
    });
    forwarder
      .portForward(namespace, pod, [port], socket, errorChannel, socket)
      .then((ws) => {
        if (typeof ws === "function") return; // only with retryCount > 0
        ws.on("close", () => socket.end());
        ws.on("error", (error: Error) => {
          errors.push(error.message);
          socket.destroy();
        });
        socket.on("close", () => ws.close());
      })
      .catch((error: unknown) => {
        errors.push(error instanceof Error ? error.message : String(error));
        socket.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("port-forward: no local address");
  return {
    base: `http://127.0.0.1:${address.port}`,
    pod,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
