import type { ServerResponse } from "node:http";
import type { ErrorRequestHandler, RequestHandler } from "express";
import { ApiError } from "../services/errors.js";
import type { Logger } from "../observability/logger.js";
import { isAuthFailure, isConnectionError, isReadOnlyRefusal } from "../db/connection-errors.js";
import { malformedJson } from "./input-guards.js";
import { sendJson } from "../services/json-response.js";

/** OpenAI's error shape, written on Node's own response so the lean path and Express answer alike. */
export function sendError(res: ServerResponse, error: ApiError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendJson(res, error.status, { error: { message: error.message, type: error.type, param: error.param, code: error.code } });
}

export { sendJson };

export const notFound: RequestHandler = (req, res) => {
  sendError(res, ApiError.notFound(`${req.method} ${req.path} is not an endpoint of this proxy`));
};

/** Body-parser failures, ApiErrors and anything unexpected, as the ApiError the caller gets. */
export function apiErrorOf(error: unknown, log: Logger, where: { requestId: unknown; path: string }): ApiError {
  const e = error as { type?: string; status?: number; message?: string; limit?: number; expose?: boolean };
  if (error instanceof ApiError) return error;
  if (e.type === "entity.parse.failed") return malformedJson(e.message ?? "parse error");
  if (e.type === "entity.too.large")
    return new ApiError(413, `body: larger than the ${e.limit ?? ""} byte limit`, "bad_request_error", "body");
  if (e.type === "encoding.unsupported" || e.type === "charset.unsupported")
    return new ApiError(415, `body: ${e.message}`, "bad_request_error", "body");
  // Anything else the body parser refused (a corrupt gzip body, an aborted upload) is the client's.
  if (e.expose && typeof e.status === "number" && e.status >= 400 && e.status < 500)
    return new ApiError(e.status, `body: ${e.message ?? "unreadable"}`, "bad_request_error", "body");
  // Reads that a replica refuses are rerouted to the writer before this, so a
  // 25006 here is the writer address reaching a standby: a failover.
  if (isReadOnlyRefusal(error))
    return new ApiError(
      503,
      "database read-only: the writer is failing over (its address reached a server in recovery); nothing was changed, retry shortly",
      "db_read_only",
      null,
      { "retry-after": "2" },
    );
  if (isAuthFailure(error))
    return new ApiError(
      503,
      "database unavailable: the writer refused tandem's credentials for a new connection (a password rotation propagating?); nothing was changed, retry later",
      "no_db_connection",
      null,
      { "retry-after": "5" },
    );
  if (isConnectionError(error))
    return new ApiError(
      503,
      "database unavailable: the writer database is unreachable; nothing was changed, retry later",
      "no_db_connection",
    );
  log.error({ err: error, requestId: where.requestId, path: where.path }, "request failed");
  // Details stay in the log; the caller gets the id to find them.
  return new ApiError(500, `internal error (request id ${String(where.requestId ?? "unknown")})`, "internal_server_error");
}

/** Answers a failed request in OpenAI's error shape, or just ends it if the answer had begun. */
export function answerError(res: ServerResponse, api: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendError(res, api);
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    answerError(res, apiErrorOf(error, log, { requestId: res.getHeader("x-request-id"), path: req.path }));
  };
}
