// Settings of one e2e run, from the environment. The suite runs against whatever cluster
// KUBECONFIG names (kind from e2e/run-kind.sh, the offline kind cluster from e2e/offline/run.sh,
// or any other cluster that already has the images).
import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const chartDir = resolve(repoRoot, "charts/tandem");

/** `registry:5000/a/b:tag` → repository `registry:5000/a/b`, tag `tag` (no tag: `latest`). */
export function splitImage(image: string): { repository: string; tag: string } {
  const at = image.indexOf("@");
  if (at >= 0) throw new Error(`image digests are not supported here: ${image}`);
  const slash = image.lastIndexOf("/");
  const colon = image.lastIndexOf(":");
  if (colon > slash) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image, tag: "latest" };
}

const runId = randomBytes(3).toString("hex");

export const settings = {
  /** tandem image, already present on the cluster's nodes (kind load / load-image.sh). */
  tandemImage: process.env.TANDEM_IMAGE || "tandem:dev",
  /** Postgres image for the primary and the replica: the official image or local/postgres:15. */
  postgresImage: process.env.POSTGRES_IMAGE || "postgres:16",
  /** Redis image for the fleet scenario: the official image or local/redis:7. */
  redisImage: process.env.REDIS_IMAGE || "redis:7",
  /** Pull policy of every pod the suite creates (IfNotPresent suits images loaded into kind). */
  pullPolicy: process.env.E2E_IMAGE_PULL_POLICY || "IfNotPresent",
  namespace: process.env.E2E_NAMESPACE || `tandem-e2e-${runId}`,
  /** E2E_KEEP=1 keeps the namespace (and everything in it) for inspection. */
  keep: process.env.E2E_KEEP === "1",
  helm: process.env.HELM || "helm",
  /** `helm install/upgrade --timeout`. */
  helmTimeout: process.env.E2E_HELM_TIMEOUT || "4m",
  runId,
};
