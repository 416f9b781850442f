import { readFileSync } from "node:fs";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import type { Logger } from "../../observability/logger.js";
import { scrub } from "../../observability/secrets.js";
import type { DiscoverySource, Target } from "./source.js";

const NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/**
 * The replicas behind a Kubernetes Service, from its EndpointSlices (the
 * `kubernetes.io/service-name` label): CloudNativePG's `<cluster>-ro`,
 * Zalando's `-repl`, or any Service with a selector over replica pods. Listed
 * once, then watched, so a pod added, rescheduled or made unready is seen
 * within moments; a broken watch is listed and watched again. Needs get, list
 * and watch on `endpointslices` in the Service's namespace, nothing more
 * (the chart's Role with `db.readerDiscovery.mode: kubernetes`).
 */
export class EndpointSliceSource implements DiscoverySource {
  readonly kind = "kubernetes";
  readonly complete = true;
  private slices = new Map<string, V1EndpointSlice>();
  private started: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private closed = false;
  private listed = false;

  constructor(
    private readonly service: string,
    private readonly namespace: string,
    private readonly port: number,
    private readonly log: Logger,
  ) {}

  async targets(): Promise<readonly Target[]> {
    // Until a list succeeds each call lists (and fails with its reason); after it, the watch keeps the slices current.
    if (!this.listed) await (this.started ??= this.listAndWatch().finally(() => (this.started = undefined)));
    return sliceTargets([...this.slices.values()], this.port);
  }

  private async listAndWatch(): Promise<void> {
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    kc.loadFromDefault();
    const api = kc.makeApiClient(k8s.DiscoveryV1Api);
    const labelSelector = `kubernetes.io/service-name=${this.service}`;
    const list = await api.listNamespacedEndpointSlice({ namespace: this.namespace, labelSelector });
    this.slices = new Map(list.items.map((slice) => [slice.metadata?.name ?? "", slice]));
    this.listed = true;
    if (this.closed) return;
    const rewatch = (error?: unknown) => {
      if (this.closed) return;
      if (error)
        this.log.warn(
          { service: this.service },
          `EndpointSlice watch for Service ${this.service} ended (${describe(error)}); listing again`,
        );
      this.listed = false;
      setTimeout(() => void this.targets().catch(() => undefined), 1000).unref();
    };
    this.abort = await new k8s.Watch(kc).watch(
      `/apis/discovery.k8s.io/v1/namespaces/${this.namespace}/endpointslices`,
      { labelSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (phase, object: V1EndpointSlice) => {
        const name = object.metadata?.name ?? "";
        if (phase === "ADDED" || phase === "MODIFIED") this.slices.set(name, object);
        else if (phase === "DELETED") this.slices.delete(name);
      },
      rewatch,
    );
    // Closed while the watch was being set up: stop it now, or it would stream on after shutdown.
    if (this.closed) this.abort.abort();
  }

  close(): void {
    this.closed = true;
    this.abort?.abort();
  }
}

/**
 * The Service's name and namespace for a reader address: as configured, else
 * from the host name (`pg-ro`, `pg-ro.db`, `pg-ro.db.svc.cluster.local`), the
 * namespace defaulting to POD_NAMESPACE or the pod's own service account's.
 */
export function serviceOf(host: string, configured: { service?: string; namespace?: string }): { service: string; namespace: string } {
  const [first, second] = host.split(".");
  const service = configured.service ?? first ?? host;
  const namespace =
    configured.namespace ?? (second && second !== "svc" ? second : undefined) ?? process.env.POD_NAMESPACE ?? ownNamespace();
  return { service, namespace };
}

function ownNamespace(): string {
  try {
    return readFileSync(NAMESPACE_FILE, "utf8").trim();
  } catch {
    throw new Error("the Service's namespace is unknown: set DATABASE_READ_REPLICA_NAMESPACE (not running in a pod)");
  }
}

/**
 * The endpoints of the slices that serve (ready, not terminating), at the
 * port the address names, else the slice's only port, else one named like
 * Postgres's. One target per endpoint: its first address, its zone, its pod.
 */
export function sliceTargets(slices: readonly V1EndpointSlice[], port: number): Target[] {
  const targets = new Map<string, Target>();
  for (const slice of slices) {
    if (slice.addressType === "FQDN") continue;
    const ports = slice.ports ?? [];
    const chosen =
      ports.find((p) => p.port === port) ??
      (ports.length === 1 ? ports[0] : undefined) ??
      ports.find((p) => /postgres|^pg|sql/i.test(p.name ?? "")) ??
      (ports.length === 0 ? { port } : undefined);
    if (chosen?.port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const conditions = endpoint.conditions ?? {};
      // Ready unset means ready (the API's own rule); terminating pods are on their way out.
      if (conditions.ready === false || conditions.terminating === true) continue;
      const host = endpoint.addresses[0];
      if (!host) continue;
      targets.set(`${host}:${chosen.port}`, {
        host,
        port: chosen.port,
        ...(endpoint.zone ? { zone: endpoint.zone } : {}),
        ...(endpoint.targetRef?.name ? { label: endpoint.targetRef.name } : {}),
      });
    }
  }
  return [...targets.values()].sort((a, b) => `${a.host}:${a.port}`.localeCompare(`${b.host}:${b.port}`));
}

function describe(error: unknown): string {
  return scrub(error instanceof Error ? error.message : String(error));
}
