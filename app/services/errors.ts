/**
 * An error meant for the API caller. Rendered in LiteLLM Proxy's shape —
 * {"error": {"message", "type", "param", "code"}} with `code` the HTTP status
 * as a string and LiteLLM's own `type` names — so clients and dashboards
 * written against LiteLLM read tandem's errors unchanged.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    /** Extra response headers, e.g. retry-after on a 429. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get code(): string {
    return String(this.status);
  }

  static badRequest(message: string, param: string | null = null) {
    return new ApiError(400, message, "bad_request_error", param);
  }
  static unauthorized(message: string, type = "auth_error", param: string | null = null) {
    return new ApiError(401, message, type, param);
  }
  /** The caller is known but the thing asked for is not theirs (LiteLLM: another key's, user's or team's info). */
  static forbidden(message: string, param: string | null = null) {
    return new ApiError(403, message, "auth_error", param);
  }
  /** A virtual key calling an admin route (LiteLLM answers 401 here too). */
  static adminOnly(route: string) {
    return new ApiError(401, `Only the master key (proxy admin) can call ${route}`, "auth_error", null);
  }
  static notFound(message: string, param: string | null = null) {
    return new ApiError(404, message, "not_found_error", param);
  }
  /** `entity` is key, team or user: LiteLLM's key_model_access_denied and friends. */
  static modelAccessDenied(entity: "key" | "team" | "user", message: string) {
    return new ApiError(401, message, `${entity}_model_access_denied`, "model");
  }
  static budgetExceeded(message: string) {
    return new ApiError(400, message, "budget_exceeded", null);
  }
  static rateLimited(message: string, retryAfterMs: number) {
    return new ApiError(429, message, "rate_limit_error", null, { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
  }
}
