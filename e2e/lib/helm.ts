// The helm CLI (Helm 3 or 4) against the cluster KUBECONFIG names.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chartDir, settings } from "./settings.js";

export function helm(args: string[], timeoutMs = 600_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(settings.helm, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`helm ${args.join(" ")} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

/** `helm install` (or `upgrade`) RELEASE charts/tandem with these values, waiting for the rollout. */
export async function helmDeploy(
  verb: "install" | "upgrade",
  release: string,
  namespace: string,
  values: Record<string, unknown>,
): Promise<{ seconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), "tandem-e2e-values-"));
  const file = join(dir, "values.json");
  // JSON is YAML: one values file, no --set escaping. It holds database URLs: removed at once.
  writeFileSync(file, JSON.stringify(values, null, 2), { mode: 0o600 });
  const started = Date.now();
  try {
    await helm([verb, release, chartDir, "--namespace", namespace, "--values", file, "--wait", "--timeout", settings.helmTimeout]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { seconds: Math.round((Date.now() - started) / 100) / 10 };
}

export async function helmUninstall(release: string, namespace: string): Promise<void> {
  await helm(["uninstall", release, "--namespace", namespace]);
}
