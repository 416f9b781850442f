import type { RequestHandler } from "express";
import { ApiError } from "../services/errors.js";

/** Deeper JSON is refused before parsing: no request of this API nests further, and deep nesting can exhaust the stack. */
export const MAX_JSON_DEPTH = 64;

/**
 * For the JSON parser's `verify` hook: refuses a body nested deeper than
 * MAX_JSON_DEPTH with a 400, scanning the raw bytes once (strings skipped).
 */
export function verifyJsonDepth(_req: unknown, _res: unknown, buf: Buffer): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw ApiError.badRequest(`body: nested deeper than ${MAX_JSON_DEPTH} levels`, "body");
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}

/**
 * A POST with a body that is not JSON is refused (415) instead of being read
 * as an empty body: a curl `-d` without a content type must never create an
 * unrestricted key.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"] !== undefined;
  if (["POST", "PUT", "PATCH"].includes(req.method) && hasBody && !req.is(["application/json", "application/*+json"])) {
    next(
      new ApiError(
        415,
        `content-type: the body must be JSON (content-type: application/json), got ${JSON.stringify(req.headers["content-type"] ?? "none")}`,
        "bad_request_error",
        "content-type",
      ),
    );
    return;
  }
  next();
};

/**
 * PostgreSQL text cannot hold U+0000, so a NUL in any string of the body
 * (keys included) or of the query would fail deep in a write: refused up
 * front with a 400 naming the field.
 */
export const rejectNul: RequestHandler = (req, _res, next) => {
  const where = nulPath(req.body) ?? nulPath(req.query);
  next(where === undefined ? undefined : nulError(where));
};

/** A body that is not JSON (or, parsed strictly, not an object or an array): a 400 naming the body. */
export function malformedJson(why: string): ApiError {
  return ApiError.badRequest(`body: malformed JSON (${why})`, "body");
}

export function nulError(where: string[]): ApiError {
  const field = where.join(".") || "body";
  return ApiError.badRequest(`${field}: must not contain a NUL character`, field);
}

/** Where a NUL is, as path segments (empty: the value itself, or a key of it); built only on the way back from a find, since every request body is walked. */
export function nulPath(value: unknown): string[] | undefined {
  if (typeof value === "string") return value.includes("\u0000") ? [] : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  for (const key of Object.keys(value)) {
    if (key.includes("\u0000")) return [];
    const found = nulPath((value as Record<string, unknown>)[key]);
    if (found !== undefined) {
      found.unshift(key);
      return found;
    }
  }
  return undefined;
}
