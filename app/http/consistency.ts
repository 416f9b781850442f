import type { RequestHandler } from "express";
import { formatLsn, parseLsn, runWithConsistency } from "../db/consistency.js";
import { ApiError } from "../services/errors.js";

/**
 * Read-your-writes across pods: a response to a write carries the writer's
 * WAL position in `x-tandem-lsn`; a request that sends it back as
 * `x-tandem-min-lsn` is answered only from a reader that has replayed that
 * far (else from the writer). Mounted after the body parser, whose stream
 * callbacks would otherwise lose the request's async context.
 */
export function consistencyContext(): RequestHandler {
  return (req, res, next) => {
    const header = req.header("x-tandem-min-lsn");
    const minLsn = header === undefined ? undefined : parseLsn(header);
    if (header !== undefined && minLsn === undefined) {
      next(ApiError.badRequest("x-tandem-min-lsn must be a WAL position such as 0/16B3748 (from x-tandem-lsn)", "x-tandem-min-lsn"));
      return;
    }
    runWithConsistency(
      {
        minLsn,
        onWrite: (lsn) => {
          if (!res.headersSent) res.setHeader("x-tandem-lsn", formatLsn(lsn));
        },
      },
      next,
    );
  };
}
