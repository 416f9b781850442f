import type { IncomingMessage } from "node:http";
import { ApiError } from "../services/errors.js";
import { malformedJson, nulError, nulPath, verifyJsonDepth } from "./input-guards.js";

/**
 * Whether a request's body is plain JSON this module can read exactly as
 * Express's JSON parser would: a declared length within the limit, no
 * content or transfer encoding, UTF-8. Anything else (gzip, chunked,
 * another charset) is Express's.
 */
export function isPlainJson(req: IncomingMessage, limitBytes: number): boolean {
  const h = req.headers;
  if (h["transfer-encoding"] !== undefined) return false;
  if (h["content-encoding"] !== undefined && h["content-encoding"].toLowerCase() !== "identity") return false;
  const length = h["content-length"];
  if (length === undefined || !/^\d{1,9}$/.test(length) || Number(length) === 0 || Number(length) > limitBytes) return false;
  const type = h["content-type"]?.toLowerCase().replace(/\s/g, "");
  return type === "application/json" || type === "application/json;charset=utf-8";
}

/**
 * Reads and parses a body `isPlainJson` accepted, with the guards of the
 * Express path: JSON objects or arrays only, no deeper than MAX_JSON_DEPTH,
 * no NUL in any string (each a 400 naming the body or the field).
 */
export function readPlainJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new ApiError(400, "body: the client aborted the upload", "bad_request_error", "body"));
    });
    req.on("end", () => {
      try {
        resolve(parsePlainJson(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** The body's value, or a 400 naming what is wrong with it (exported for the unit table). */
export function parsePlainJson(buf: Buffer): unknown {
  verifyJsonDepth(undefined, undefined, buf);
  const text = buf.toString("utf8");
  // As Express's strict parser: a body is an object or an array.
  const first = /\S/.exec(text)?.[0];
  if (first !== "{" && first !== "[") throw malformedJson(`expected an object or an array, got ${JSON.stringify(text.slice(0, 20))}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw malformedJson(error instanceof Error ? error.message : "parse error");
  }
  const where = nulPath(value);
  if (where !== undefined) throw nulError(where);
  return value;
}
