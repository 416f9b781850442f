import { Agent, errors } from "undici";
import type { Deployment } from "../../config/model-config.js";
import { ApiError } from "../errors.js";
import type { WireRequest } from "./providers/provider.js";

export interface UpstreamResponse {
  status: number;
  contentType: string | undefined;
  /** The upstream's retry-after, when it sent one (a 429). */
  retryAfter?: string;
  body: AsyncIterable<Uint8Array> & { text(): Promise<string>; dump(): Promise<void> };
}

/**
 * POSTs to the deployments over kept-alive connections (undici's own client:
 * no web-stream wrapping, no per-request timer or signal objects beyond the
 * caller's abort). The deployment's timeout bounds the wait for the response
 * head and each gap between body chunks, so a long stream that keeps talking
 * is not cut, and one that stalls is.
 */
export class UpstreamClient {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connect: { timeout: 10_000 } });
  // Parsed once per deployment, not per request.
  private readonly targets = new WeakMap<Deployment, { origin: string; basePath: string }>();

  private target(deployment: Deployment) {
    let target = this.targets.get(deployment);
    if (!target) {
      const url = new URL(deployment.apiBase);
      target = { origin: url.origin, basePath: url.pathname.replace(/\/+$/, "") };
      this.targets.set(deployment, target);
    }
    return target;
  }

  /** Sends one provider request (a POST unless the wire says) (path, headers and body made by the deployment's adapter); `timeoutMs` bounds each wait. */
  async post(
    deployment: Deployment,
    wire: WireRequest,
    signal: AbortSignal,
    stream: boolean,
    timeoutMs = deployment.timeoutMs,
  ): Promise<UpstreamResponse> {
    try {
      const { origin, basePath } = this.target(deployment);
      const response = await this.agent.request({
        origin,
        path: `${basePath}${wire.path}`,
        method: wire.method ?? "POST",
        headers: {
          ...(wire.body !== undefined ? { "content-type": "application/json" } : {}),
          accept: stream ? "text/event-stream" : "application/json",
          ...wire.headers,
        },
        body: wire.body,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const type = response.headers["content-type"];
      const retryAfter = response.headers["retry-after"];
      return {
        status: response.statusCode,
        contentType: Array.isArray(type) ? type[0] : type,
        ...(typeof retryAfter === "string" ? { retryAfter } : {}),
        body: response.body,
      };
    } catch (error) {
      throw upstreamFailure(deployment, error, signal, timeoutMs);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function upstreamFailure(deployment: Deployment, error: unknown, signal: AbortSignal, timeoutMs: number): ApiError {
  if (signal.aborted) return new ApiError(499, "client closed the request", "client_closed_request");
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.ConnectTimeoutError)
    return new ApiError(504, `upstream for ${deployment.name} timed out after ${timeoutMs / 1000}s`, "timeout");
  const code = (error as { code?: string }).code ?? (error as Error).message;
  return new ApiError(502, `upstream for ${deployment.name} unreachable (${code})`, "upstream_error");
}
