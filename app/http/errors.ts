import type { ErrorRequestHandler, RequestHandler } from "express";
import { ApiError } from "../services/errors.js";
import type { Logger } from "../observability/logger.js";
import { isConnectionError } from "../db/connection-errors.js";

export function sendError(res: Parameters<RequestHandler>[1], error: ApiError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.status(error.status).json({ error: { message: error.message, type: error.type, param: error.param, code: error.code } });
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, ApiError.notFound(`${req.method} ${req.path} is not an endpoint of this proxy`));
};

/** Body-parser failures, ApiErrors and anything unexpected, all in OpenAI's error shape. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const e = error as { type?: string; status?: number; message?: string; limit?: number; expose?: boolean };
    let api: ApiError;
    if (error instanceof ApiError) api = error;
    else if (e.type === "entity.parse.failed") api = ApiError.badRequest(`body: malformed JSON (${e.message ?? "parse error"})`, "body");
    else if (e.type === "entity.too.large")
      api = new ApiError(413, `body: larger than the ${e.limit ?? ""} byte limit`, "bad_request_error", "body");
    else if (e.type === "encoding.unsupported" || e.type === "charset.unsupported")
      api = new ApiError(415, `body: ${e.message}`, "bad_request_error", "body");
    // Anything else the body parser refused (a corrupt gzip body, an aborted upload) is the client's.
    else if (e.expose && typeof e.status === "number" && e.status >= 400 && e.status < 500)
      api = new ApiError(e.status, `body: ${e.message ?? "unreadable"}`, "bad_request_error", "body");
    else if (isConnectionError(error))
      api = new ApiError(
        503,
        "database unavailable: the writer database is unreachable; nothing was changed, retry later",
        "no_db_connection",
      );
    else {
      log.error({ err: error, requestId: res.getHeader("x-request-id"), path: req.path }, "request failed");
      // Details stay in the log; the caller gets the id to find them.
      api = new ApiError(500, `internal error (request id ${String(res.getHeader("x-request-id") ?? "unknown")})`, "internal_server_error");
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    sendError(res, api);
  };
}
