/**
 * An error meant for the API caller, in OpenAI's shape. Services throw these;
 * the HTTP layer renders them as {"error": {message, type, code}}.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly code: string | number = status,
    readonly param?: string,
  ) {
    super(message);
  }

  static badRequest(message: string, param?: string) {
    return new ApiError(400, message, "invalid_request_error", 400, param);
  }
  static unauthorized(message: string, code = "invalid_api_key") {
    return new ApiError(401, message, "auth_error", code);
  }
  static notFound(message: string) {
    return new ApiError(404, message, "not_found_error", 404);
  }
  static budgetExceeded(message: string) {
    return new ApiError(400, message, "budget_exceeded", 400);
  }
}
