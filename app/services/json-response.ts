import type { ServerResponse } from "node:http";

/** A JSON answer written on Node's own response (the proxy's stages and the HTTP layer alike). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}
