import { z } from "zod";
import { registerSecret } from "../observability/secrets.js";

/** One of general_settings.pass_through_endpoints: a route of the proxy forwarded to a target, behind tandem's keys. */
export interface PassThroughEndpoint {
  /** The proxy's route ("/v1/rerank"). */
  path: string;
  /** Where it goes: the whole URL, a subpath appended when include_subpath is set. */
  target: string;
  /** Headers set on every forwarded request (os.environ/ resolved: an upstream's key, registered as a secret). */
  headers: Record<string, string>;
  /** forward_headers: the client's own headers go too (never its tandem key, cookies or hop-by-hop headers). */
  forwardHeaders: boolean;
  /** include_subpath: `/path/anything` goes to `target/anything`. */
  includeSubpath: boolean;
  /** cost_per_request: charged to the calling key for each answer under 400. */
  costPerRequest: number;
}

export const PassThroughEntry = z
  .object({
    path: z.string().regex(/^\/[\w.-][\w./-]*$/, "must be a path like /v1/rerank"),
    target: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).default({}),
    forward_headers: z.boolean().default(false),
    include_subpath: z.boolean().default(false),
    cost_per_request: z.number().nonnegative().default(0),
    // LiteLLM's switch for its key check on the route: tandem always checks keys.
    auth: z.boolean().optional(),
  })
  .loose();

// A header value naming a variable, alone or after a scheme: "os.environ/KEY", "Bearer os.environ/KEY".
const ENV_IN_HEADER = /^(.*?)os\.environ\/([A-Za-z_][A-Za-z0-9_]*)$/;

/** The endpoints with their header values read from `env`; an unset variable stops the start, naming the header. */
export function passThroughEndpoints(
  entries: ReadonlyArray<z.infer<typeof PassThroughEntry>>,
  source: string,
  env: NodeJS.ProcessEnv,
): PassThroughEndpoint[] {
  return entries.map((entry, index) => {
    const headers = Object.fromEntries(
      Object.entries(entry.headers).map(([name, value]) => {
        const reference = ENV_IN_HEADER.exec(value);
        if (!reference) return [name, value];
        const resolved = env[reference[2]!];
        if (resolved === undefined)
          throw new Error(
            `${source}: general_settings.pass_through_endpoints[${index}].headers.${name} reads ${reference[2]}, which is not set`,
          );
        registerSecret(resolved);
        return [name, `${reference[1]}${resolved}`];
      }),
    );
    return {
      path: entry.path.replace(/\/+$/, "") || "/",
      target: entry.target.replace(/\/+$/, ""),
      headers,
      forwardHeaders: entry.forward_headers,
      includeSubpath: entry.include_subpath,
      costPerRequest: entry.cost_per_request,
    };
  });
}
