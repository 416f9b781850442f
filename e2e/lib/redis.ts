// The fleet's Redis: the chart's bundled one (redis.enabled) on the suite's Redis image (the
// official redis image, or local/redis:7 built from Debian's package offline: both redis-server
// builds, so redis.flavor is `redis`), and pods running the in-cluster client
// (e2e/fixtures/fleet-client.mjs) that calls tandem through its Service.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import type { Kube } from "./kube.js";
import { repoRoot, settings, splitImage } from "./settings.js";
import { eventually } from "./wait.js";

const restricted = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

/** The chart's `redis` values for its bundled Redis on REDIS_IMAGE, with requests small enough for the test node. */
export function bundledRedis(): Record<string, unknown> {
  const { repository, tag } = splitImage(settings.redisImage);
  return {
    enabled: true,
    flavor: "redis",
    image: { repository, tag, pullPolicy: settings.pullPolicy },
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "256Mi" } },
  };
}

/** The bundled Redis's pod selector and Secret (holding `redis-password`) of a release. */
export function bundledRedisOf(release: { name: string; fullname: string }): { selector: string; secret: string } {
  return {
    selector: `app.kubernetes.io/instance=${release.name},app.kubernetes.io/component=redis`,
    secret: `${release.fullname}-redis`,
  };
}

/** The client script, once per namespace. */
export async function createClientScript(kube: Kube): Promise<void> {
  await kube.createConfigMap("fleet-client", {
    "fleet-client.mjs": readFileSync(join(repoRoot, "e2e/fixtures/fleet-client.mjs"), "utf8"),
  });
}

/** Starts the in-cluster client (`env`: see fleet-client.mjs); resolves once its pod runs. */
export async function startClient(kube: Kube, name: string, env: Record<string, string>): Promise<void> {
  const pod: k8s.V1Pod = {
    metadata: { name, labels: { app: "fleet-client" } },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        {
          name: "client",
          image: settings.tandemImage,
          imagePullPolicy: settings.pullPolicy,
          command: ["node", "/client/fleet-client.mjs"],
          env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
          resources: { requests: { cpu: "10m", memory: "32Mi" } },
          securityContext: restricted,
          volumeMounts: [
            { name: "client", mountPath: "/client", readOnly: true },
            { name: "work", mountPath: "/work" },
          ],
        },
      ],
      volumes: [
        { name: "client", configMap: { name: "fleet-client" } },
        { name: "work", emptyDir: {} },
      ],
    },
  };
  await kube.createPod(pod);
  await eventually(
    `client pod ${name} to run`,
    () => kube.readPod(name),
    (p) => ["Running", "Succeeded", "Failed"].includes(p.status?.phase ?? ""),
    { timeoutMs: 120_000 },
  );
}

/** Waits for the client to finish and returns the JSON summary it printed last. */
export async function clientResult<T>(kube: Kube, name: string, timeoutMs = 180_000): Promise<T> {
  const pod = await eventually(
    `client pod ${name} to finish`,
    () => kube.readPod(name),
    (p) => ["Succeeded", "Failed"].includes(p.status?.phase ?? ""),
    { timeoutMs, intervalMs: 1000 },
  );
  const logs = await kube.logs(name, "client");
  if (pod.status?.phase !== "Succeeded") throw new Error(`client pod ${name} failed:\n${logs.slice(-2000)}`);
  const last = logs.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as T;
}
