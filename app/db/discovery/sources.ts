import type { EndpointConfig, ReaderDiscoveryConfig } from "../../config/env.js";
import type { Logger } from "../../observability/logger.js";
import { urlParts } from "../url.js";
import { AuroraTopologySource, instancePatternOf } from "./aurora.js";
import { DnsSource } from "./dns.js";
import { EndpointSliceSource, serviceOf } from "./kubernetes.js";
import type { DiscoverySource } from "./source.js";

/** Runs a read-only statement on the writer (Aurora's topology lives there). */
export type WriterQuery = <R>(sql: string) => Promise<R[]>;

/** The discovery source DATABASE_READ_REPLICA_DISCOVERY asks for, for one reader address (none: undefined). */
export function discoverySource(
  address: EndpointConfig,
  config: ReaderDiscoveryConfig,
  log: Logger,
  queryWriter: WriterQuery,
): DiscoverySource | undefined {
  const { host, port } = urlParts(address.url);
  switch (config.mode) {
    case "none":
      return undefined;
    case "dns":
      return new DnsSource(host.replace(/^\[|\]$/g, ""), port, config.dnsServers);
    case "aurora": {
      const pattern = config.instanceHostPattern ?? instancePatternOf(host);
      if (!pattern) {
        throw new DiscoveryConfigError(
          `DATABASE_READ_REPLICA_INSTANCE_HOST_PATTERN must be set for aurora discovery: ${host} is not an Aurora cluster endpoint to derive it from`,
        );
      }
      return new AuroraTopologySource(pattern, port, queryWriter);
    }
    case "kubernetes": {
      const { service, namespace } = serviceOf(host, config);
      return new EndpointSliceSource(service, namespace, port, log);
    }
  }
}

/** Discovery asked for what the address cannot give: a start error naming the variable. */
export class DiscoveryConfigError extends Error {
  override name = "DiscoveryConfigError";
}
