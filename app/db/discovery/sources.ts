import type { EndpointConfig, ReaderDiscoveryConfig } from "../../config/env.js";
import type { Logger } from "../../observability/logger.js";
import { urlParts } from "../url.js";
import { DnsSource } from "./dns.js";
import { EndpointSliceSource, serviceOf } from "./kubernetes.js";
import type { DiscoverySource } from "./source.js";

/** The discovery source DATABASE_READ_REPLICA_DISCOVERY asks for, for one reader address (none: undefined). */
export function discoverySource(address: EndpointConfig, config: ReaderDiscoveryConfig, log: Logger): DiscoverySource | undefined {
  const { host, port } = urlParts(address.url);
  switch (config.mode) {
    case "none":
      return undefined;
    case "dns":
      return new DnsSource(host.replace(/^\[|\]$/g, ""), port, config.dnsServers);
    case "kubernetes": {
      const { service, namespace } = serviceOf(host, config);
      return new EndpointSliceSource(service, namespace, port, log);
    }
  }
}
