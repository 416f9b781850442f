// Kubernetes access for the e2e suite, through @kubernetes/client-node only (no kubectl).
import { Writable } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { eventually, withTimeout } from "./wait.js";

export type Pod = k8s.V1Pod;

/** A Writable that keeps what is written to it. */
class Collector extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function isReady(pod: Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === "Running" &&
    (pod.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

export function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0);
}

/** Error body of a failed API call, short enough for a test failure message. */
export function apiError(error: unknown): string {
  const e = error as { code?: number; body?: unknown; message?: string };
  const body = typeof e.body === "string" ? e.body : JSON.stringify(e.body ?? "");
  return `${e.code ?? ""} ${e.message ?? ""} ${body}`.trim().slice(0, 600);
}

export class Kube {
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly rbac: k8s.RbacAuthorizationV1Api;
  private readonly execApi: k8s.Exec;

  constructor(readonly namespace: string) {
    this.kc = new k8s.KubeConfig();
    this.kc.loadFromDefault();
    this.core = this.kc.makeApiClient(k8s.CoreV1Api);
    this.apps = this.kc.makeApiClient(k8s.AppsV1Api);
    this.rbac = this.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
    this.execApi = new k8s.Exec(this.kc);
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? "(no cluster)";
  }

  async createNamespace(): Promise<void> {
    await this.core.createNamespace({
      body: { metadata: { name: this.namespace, labels: { "app.kubernetes.io/part-of": "tandem-e2e" } } },
    });
  }

  async deleteNamespace(): Promise<void> {
    await this.core.deleteNamespace({ name: this.namespace, propagationPolicy: "Background" }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
  }

  async createConfigMap(name: string, data: Record<string, string>): Promise<void> {
    await this.core.createNamespacedConfigMap({ namespace: this.namespace, body: { metadata: { name }, data } });
  }

  async createSecret(name: string, stringData: Record<string, string>): Promise<void> {
    await this.core.createNamespacedSecret({ namespace: this.namespace, body: { metadata: { name }, type: "Opaque", stringData } });
  }

  /** Replaces a Secret's data, as External Secrets does after a rotation. */
  async replaceSecret(name: string, stringData: Record<string, string>): Promise<void> {
    await this.core.replaceNamespacedSecret({ name, namespace: this.namespace, body: { metadata: { name }, type: "Opaque", stringData } });
  }

  async readSecret(name: string): Promise<Record<string, string>> {
    const secret = await this.core.readNamespacedSecret({ name, namespace: this.namespace });
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
  }

  async createDeployment(body: k8s.V1Deployment): Promise<void> {
    await this.apps.createNamespacedDeployment({ namespace: this.namespace, body });
  }

  async createService(body: k8s.V1Service): Promise<void> {
    await this.core.createNamespacedService({ namespace: this.namespace, body });
  }

  async createPod(body: k8s.V1Pod): Promise<void> {
    await this.core.createNamespacedPod({ namespace: this.namespace, body });
  }

  async readPod(name: string): Promise<Pod> {
    return this.core.readNamespacedPod({ name, namespace: this.namespace });
  }

  /** Deletes a pod the way `kubectl delete pod` does: gracefully, its preStop and SIGTERM honoured. */
  async deletePod(name: string): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace: this.namespace });
  }

  async deleteDeployment(name: string): Promise<void> {
    await this.apps.deleteNamespacedDeployment({ name, namespace: this.namespace });
  }

  async readRole(name: string): Promise<k8s.V1Role> {
    return this.rbac.readNamespacedRole({ name, namespace: this.namespace });
  }

  async readRoleBinding(name: string): Promise<k8s.V1RoleBinding> {
    return this.rbac.readNamespacedRoleBinding({ name, namespace: this.namespace });
  }

  async readDeployment(name: string): Promise<k8s.V1Deployment> {
    return this.apps.readNamespacedDeployment({ name, namespace: this.namespace });
  }

  async scaleDeployment(name: string, replicas: number): Promise<void> {
    await this.apps.patchNamespacedDeploymentScale({
      name,
      namespace: this.namespace,
      body: [{ op: "replace", path: "/spec/replicas", value: replicas }],
    });
  }

  /** Waits until the Deployment's current generation is rolled out and all its replicas are ready. */
  async waitDeploymentReady(name: string, timeoutMs = 180_000): Promise<void> {
    await eventually(
      `Deployment ${name} to be ready`,
      () => this.readDeployment(name),
      (d) => {
        const want = d.spec?.replicas ?? 1;
        const s = d.status ?? {};
        return (
          (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
          (s.updatedReplicas ?? 0) === want &&
          (s.readyReplicas ?? 0) === want &&
          (s.replicas ?? 0) === want
        );
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  async pods(labelSelector: string): Promise<Pod[]> {
    return (await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector })).items;
  }

  async replicaSets(labelSelector: string): Promise<k8s.V1ReplicaSet[]> {
    return (await this.apps.listNamespacedReplicaSet({ namespace: this.namespace, labelSelector })).items;
  }

  /** A Ready, not terminating pod matching the selector (waits for one). */
  async readyPod(labelSelector: string, timeoutMs = 120_000): Promise<Pod> {
    const pods = await eventually(
      `a Ready pod with ${labelSelector}`,
      () => this.pods(labelSelector),
      (p) => p.some(isReady),
      {
        timeoutMs,
        intervalMs: 1000,
      },
    );
    return pods.find(isReady)!;
  }

  /** Runs a command in a container; resolves with its exit code and output. */
  async exec(pod: string, container: string, command: string[], timeoutMs = 60_000): Promise<ExecResult> {
    const stdout = new Collector();
    const stderr = new Collector();
    let status: k8s.V1Status | undefined;
    const run = async () => {
      const ws = await this.execApi.exec(this.namespace, pod, container, command, stdout, stderr, null, false, (s) => (status = s));
      await new Promise<void>((resolve) => {
        if (ws.readyState === ws.CLOSED) resolve();
        else ws.on("close", () => resolve());
      });
    };
    await withTimeout(run(), timeoutMs, `exec ${command[0]} in ${pod}`);
    let code = status?.status === "Success" ? 0 : 1;
    const exit = status?.details?.causes?.find((c) => c.reason === "ExitCode")?.message;
    if (exit !== undefined) code = Number(exit);
    if (status === undefined) code = -1;
    return { code, stdout: stdout.text(), stderr: stderr.text() || (status?.status === "Success" ? "" : (status?.message ?? "")) };
  }

  async logs(pod: string, container?: string, tailLines?: number): Promise<string> {
    return this.core.readNamespacedPodLog({ name: pod, namespace: this.namespace, container, tailLines });
  }

  /** Prints every pod's state and recent logs, and the namespace's events (for a failed test). */
  async dump(out: (line: string) => void = (l) => console.log(l)): Promise<void> {
    out(`# ---- diagnostics: namespace ${this.namespace} on ${this.server} ----`);
    try {
      const pods = (await this.core.listNamespacedPod({ namespace: this.namespace })).items;
      for (const pod of pods) {
        const name = pod.metadata?.name ?? "?";
        const conditions = (pod.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`).join(",");
        const states = (pod.status?.containerStatuses ?? [])
          .map((c) => `${c.name}: ready=${c.ready} restarts=${c.restartCount} state=${Object.keys(c.state ?? {}).join("")}`)
          .join("; ");
        out(
          `## pod ${name} phase=${pod.status?.phase} ${conditions} ${pod.metadata?.deletionTimestamp ? "(terminating)" : ""} | ${states}`,
        );
        for (const c of pod.spec?.containers ?? []) {
          for (const previous of [false, true]) {
            try {
              const text = await this.core.readNamespacedPodLog({
                name,
                namespace: this.namespace,
                container: c.name,
                tailLines: 80,
                previous,
              });
              if (text.trim()) {
                out(`### logs ${name}/${c.name}${previous ? " (previous container)" : ""}`);
                for (const line of text.trimEnd().split("\n")) out(`    ${line}`);
              }
            } catch {
              // no (previous) logs
            }
          }
        }
      }
      const events = (await this.core.listNamespacedEvent({ namespace: this.namespace })).items;
      const time = (e: k8s.CoreV1Event) => new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? 0).getTime();
      out(`## events`);
      for (const e of events.sort((a, b) => time(a) - time(b))) {
        out(
          `    ${new Date(time(e)).toISOString()} ${e.type} ${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}: ${e.message} (x${e.count ?? 1})`,
        );
      }
    } catch (error) {
      out(`(diagnostics failed: ${apiError(error)})`);
    }
    out(`# ---- end of diagnostics ----`);
  }
}
