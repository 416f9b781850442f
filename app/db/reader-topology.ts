import type { EndpointConfig } from "../config/db-endpoints.js";
import { scrub } from "../observability/secrets.js";
import { withDeadline } from "./deadline.js";
import { iamTokensFor, type EndpointOptions } from "./endpoint.js";
import type { IamTokenProvider } from "./iam-token.js";
import { targetConfig, targetName, type DiscoverySource } from "./discovery/source.js";
import { ReaderAddress } from "./reader-address.js";
import type { ReaderSet } from "./reader-set.js";

type AddressOptions = EndpointOptions & { forgetAfterMs: number };

const DISCOVERY_TIMEOUT_MS = 5000;

/** One configured reader address: probed itself, or through the targets its discovery source lists. */
interface Entry {
  config: EndpointConfig;
  rank: number;
  /** RDS IAM tokens for the address, shared by the address and every target behind it. */
  tokens?: IamTokenProvider;
  source?: DiscoverySource;
  /** The address itself: always without a source; with one, only while the source has never answered. */
  itself?: ReaderAddress;
  targets: Map<string, ReaderAddress>;
  /** Targets the source no longer lists, since when (a DNS record left out of one answer may be back in the next). */
  missingSince: Map<string, number>;
  /** The last discovery failure, so each episode is logged once. */
  failing?: string;
}

/**
 * The reader addresses as configured and, for those with a discovery source
 * (DNS, Kubernetes), the targets found behind each: what the health cycle
 * probes. Targets are followed at every cycle: a new one is probed from the
 * next round on; one no longer listed takes its instances out of the reader
 * set (their reads in flight finish). A source that fails keeps the targets
 * it last listed; one that never answered leaves the address probed itself,
 * so a Service is still used through its own address, instance by instance.
 */
export class ReaderTopology {
  private readonly entries: Entry[];

  constructor(
    configs: readonly EndpointConfig[],
    private readonly readers: ReaderSet,
    private readonly options: AddressOptions,
    sourceFor: (config: EndpointConfig) => DiscoverySource | undefined = () => undefined,
  ) {
    this.entries = configs.map((config, rank) => {
      const tokens = iamTokensFor(config, options.log, options.signer);
      const itself = new ReaderAddress(config, readers, { ...options, rank, tokens });
      return { config, rank, tokens, source: sourceFor(config), itself, targets: new Map(), missingSince: new Map() };
    });
  }

  /** Every address or target to probe now. */
  get addresses(): ReaderAddress[] {
    return this.entries.flatMap((e) => [...(e.itself ? [e.itself] : []), ...e.targets.values()]);
  }

  /** The IAM token sources to start (one per configured address; targets share their address's). */
  get tokens(): IamTokenProvider[] {
    return this.entries.flatMap((e) => (e.tokens ? [e.tokens] : []));
  }

  /** Asks each discovery source what is behind its address now (bounded by the sources' own timeouts). */
  async refresh(): Promise<void> {
    await Promise.all(this.entries.map((entry) => this.refreshEntry(entry)));
  }

  private async refreshEntry(entry: Entry): Promise<void> {
    if (!entry.source) return;
    let listed;
    try {
      // Bounded: a source that hangs (a writer gone quiet under Aurora's topology query) must not hold the health cycle.
      listed = await withDeadline(
        entry.source.targets(),
        DISCOVERY_TIMEOUT_MS,
        () => new Error(`no answer within ${DISCOVERY_TIMEOUT_MS} ms`),
      );
    } catch (error) {
      const reason = scrub(error instanceof Error ? error.message : String(error));
      if (entry.failing !== reason) {
        this.options.log.warn(
          { address: entry.config.name, discovery: entry.source.kind },
          `${entry.source.kind} discovery for reader address ${entry.config.name} failed (${reason}); ` +
            (entry.targets.size > 0 ? "keeping the instances it last listed" : "probing the address itself meanwhile"),
        );
      }
      entry.failing = reason;
      return;
    }
    if (entry.failing !== undefined)
      this.options.log.info({ address: entry.config.name }, `${entry.source.kind} discovery for ${entry.config.name} answers again`);
    entry.failing = undefined;
    const tokens = entry.tokens;
    const names = new Set(listed.map(targetName));
    const now = Date.now();
    for (const [name, address] of entry.targets) {
      if (names.has(name)) {
        entry.missingSince.delete(name);
        continue;
      }
      const since = entry.missingSince.get(name) ?? now;
      entry.missingSince.set(name, since);
      if (!entry.source.complete && now - since < this.options.forgetAfterMs) continue;
      entry.missingSince.delete(name);
      entry.targets.delete(name);
      address.retire();
    }
    for (const target of listed) {
      const name = targetName(target);
      if (entry.targets.has(name)) continue;
      entry.targets.set(
        name,
        new ReaderAddress(targetConfig(entry.config, target), this.readers, {
          ...this.options,
          rank: entry.rank,
          foundBy: entry.source.kind,
          shown: entry.config.name,
          zone: target.zone,
          label: target.label,
          tokens,
        }),
      );
    }
    // The source answers: from now on its targets are probed, not the address itself.
    entry.itself?.retire();
    entry.itself = undefined;
  }

  close(): void {
    for (const entry of this.entries) {
      entry.source?.close();
      entry.tokens?.stop();
    }
  }
}
