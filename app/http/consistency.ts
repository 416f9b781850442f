import type { ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import { formatLsn, parseLsn, runWithConsistency, type RequestConsistency } from "../db/consistency.js";
import { ApiError } from "../services/errors.js";

/**
 * Read-your-writes across pods: a response to a write carries the writer's
 * WAL position in `x-tandem-lsn`; a request that sends it back as
 * `x-tandem-min-lsn` is answered only from a reader that has replayed that
 * far (else from the writer). Throws a 400 naming the header if it is not a WAL position.
 */
export function consistencyFor(header: string | string[] | undefined, res: ServerResponse): RequestConsistency {
  const minLsn = typeof header === "string" ? parseLsn(header) : undefined;
  if (header !== undefined && minLsn === undefined) {
    throw ApiError.badRequest("x-tandem-min-lsn must be a WAL position such as 0/16B3748 (from x-tandem-lsn)", "x-tandem-min-lsn");
  }
  return {
    minLsn,
    onWrite: (lsn) => {
      if (!res.headersSent) res.setHeader("x-tandem-lsn", formatLsn(lsn));
    },
  };
}

/** The request's consistency context for Express's routes; mounted after the body parser, whose stream callbacks would otherwise lose it. */
export function consistencyContext(): RequestHandler {
  // A bad header throws here; Express hands what a middleware throws to the error handler.
  return (req, res, next) => runWithConsistency(consistencyFor(req.headers["x-tandem-min-lsn"], res), next);
}
