import type { EndpointConfig } from "../../config/db-endpoints.js";
import { urlHost } from "../url.js";

/** One place to connect to, behind a reader address: an instance's own address. */
export interface Target {
  host: string;
  port: number;
  /** The zone the platform puts it in (Kubernetes' EndpointSlice `zone`), when it says. */
  zone?: string;
  /** How the platform names it (a pod), for logs. */
  label?: string;
}

/**
 * A way to find the instances behind a reader address other than connecting
 * through it and asking: DNS records, a Kubernetes Service's EndpointSlices.
 * `targets()` is what is there now; the health cycle asks every cycle, so a
 * watching source answers from memory and a polling one may look again.
 */
export interface DiscoverySource {
  kind: "dns" | "kubernetes" | "aurora";
  /**
   * Whether each listing is the whole set (a Service's EndpointSlices, Aurora's topology): a target
   * missing from one is gone. DNS answers may rotate a subset, so a record missing leaves only
   * after it has been missing for a while.
   */
  complete: boolean;
  targets(): Promise<readonly Target[]>;
  close(): void;
}

/**
 * The address's settings (user, password file, IAM, TLS) with the target's
 * host and port. Certificates are still checked against the address's own
 * name, which is what a replica's certificate carries, not its pod IP.
 */
export function targetConfig(address: EndpointConfig, target: Target): EndpointConfig {
  const moved = (url: URL) => {
    const copy = new URL(url.toString());
    copy.hostname = urlHost(target.host);
    copy.port = String(target.port);
    return copy;
  };
  return {
    ...address,
    name: targetName(target),
    url: moved(address.url),
    current: () => moved(address.current()),
    tlsServername: address.tlsServername ?? address.url.hostname,
  };
}

export function targetName(target: Target): string {
  return `${urlHost(target.host)}:${target.port}`;
}
