// Kubernetes end-to-end scenario for a platform engineer coming from LiteLLM's chart: the values
// file written for LiteLLM's chart (charts/tandem/ci/litellm-values.yaml: db.useExisting with the
// reader URL in the same Secret, masterkeySecretName, environmentSecrets, LiteLLM-shaped probes,
// LiteLLM's defaults for what tandem lacks) installed unchanged but for the image and the database
// address, with replicaCount 2, into a namespace that enforces Pod Security "restricted".
//
//   KUBECONFIG=... node --import tsx --test e2e/litellm-values.test.ts
//
// The Postgres primary/replica pair cannot run under "restricted", so it lives in a namespace of
// its own; tandem reaches it by its cluster DNS name. Routing is proven on the database side
// (pg_stat_statements on each server), and `helm test` proves reads reach the reader from inside.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { helm } from "./lib/helm.js";
import { apiError, isReady, Kube } from "./lib/kube.js";
import { portForward, type Forward } from "./lib/port-forward.js";
import { PgPair } from "./lib/postgres.js";
import { chartDir, settings, splitImage } from "./lib/settings.js";
import { Tandem } from "./lib/tandem.js";
import { eventually } from "./lib/wait.js";

// Key lookups, not the budget-reset job every pod runs on the writer every 10 s.
const KEY_READ = /^(?![\s\S]*"budget_reset_at" <=)SELECT .*"tandem_verification_token"/s;
const KEY_INSERT = /^INSERT INTO .*"tandem_verification_token"/s;

const RELEASE = "lt";
const FULLNAME = `${RELEASE}-tandem`;
const SELECTOR = `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=proxy`;
const DATABASE = "litellm_values";
const MASTER_KEY = `sk-e2e-master-${randomBytes(12).toString("hex")}`;

// Names the LiteLLM values file refers to.
const WRITER_SECRET = "litellm-writer-secret";
const MASTER_SECRET = "litellm-master-key-secret";
const ENV_SECRET = "litellm-env";

const dbKube = new Kube(settings.namespace);
const restrictedNamespace = `${settings.namespace}-restricted`.slice(0, 63);
const kube = new Kube(restrictedNamespace);
let pair: PgPair;
let forward: Forward | undefined;

function log(line: string): void {
  console.log(`# ${line}`);
}

async function dumpBoth(): Promise<void> {
  await kube.dump().catch(() => undefined);
  await dbKube.dump().catch(() => undefined);
}

async function createRestrictedNamespace(): Promise<void> {
  await kube.core.createNamespace({
    body: {
      metadata: {
        name: restrictedNamespace,
        labels: {
          "app.kubernetes.io/part-of": "tandem-e2e",
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    },
  });
}

/** `helm install` with the LiteLLM values file first and only the cluster-specific overrides after it. */
async function installWithLiteLLMValues(): Promise<number> {
  const { repository, tag } = splitImage(settings.tandemImage);
  const overrides = {
    image: { repository, tag, pullPolicy: settings.pullPolicy },
    db: { endpoint: `pg-primary.${settings.namespace}.svc`, database: DATABASE },
    // Two pods next to the other releases on a 2-core node; quick readiness so --wait returns soon.
    resources: { requests: { cpu: "10m", memory: "64Mi" } },
    readinessProbe: { periodSeconds: 2 },
  };
  const dir = mkdtempSync(join(tmpdir(), "tandem-e2e-litellm-"));
  const file = join(dir, "overrides.json");
  writeFileSync(file, JSON.stringify(overrides), { mode: 0o600 });
  const started = Date.now();
  try {
    await helm([
      "install",
      RELEASE,
      chartDir,
      "--namespace",
      restrictedNamespace,
      "--values",
      join(chartDir, "ci/litellm-values.yaml"),
      "--values",
      file,
      "--wait",
      "--timeout",
      settings.helmTimeout,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return Math.round((Date.now() - started) / 1000);
}

describe(`LiteLLM chart values in a Pod Security "restricted" namespace (${restrictedNamespace})`, () => {
  before(
    async () => {
      try {
        await dbKube.createNamespace();
        await createRestrictedNamespace();
        const hex = () => randomBytes(12).toString("hex");
        pair = await PgPair.deploy(dbKube, { superuser: hex(), replication: hex(), app: hex() });
        await pair.createDatabase(DATABASE);
        await pair.waitReplayed();
        await kube.createSecret(WRITER_SECRET, {
          username: pair.appUser,
          password: pair.appPassword,
          "read-replica-url": `postgresql://${pair.appUser}:${pair.appPassword}@pg-replica.${settings.namespace}.svc:5432/${DATABASE}`,
        });
        await kube.createSecret(MASTER_SECRET, { "master-key": MASTER_KEY });
        await kube.createSecret(ENV_SECRET, { OPENAI_API_KEY: `sk-unused-${hex()}` });
      } catch (error) {
        log(`set-up FAILED: ${error instanceof Error ? error.message : apiError(error)}`);
        await dumpBoth();
        throw error;
      }
    },
    { timeout: 420_000 },
  );

  after(async () => {
    await forward?.close().catch(() => undefined);
    if (settings.keep) {
      log(`E2E_KEEP=1: namespaces ${settings.namespace} and ${restrictedNamespace} kept`);
      return;
    }
    await helm(["uninstall", RELEASE, "--namespace", restrictedNamespace]).catch((error: unknown) => log(String(error)));
    for (const k of [kube, dbKube]) await k.deleteNamespace().catch((error: unknown) => log(`deleting namespace: ${apiError(error)}`));
  });

  it(
    "installs unchanged with two pods admitted under Pod Security restricted, migrated, reads on the replica",
    { timeout: 600_000 },
    async () => {
      try {
        const seconds = await installWithLiteLLMValues();
        log(`helm install ${RELEASE} with ci/litellm-values.yaml took ${seconds}s`);

        // replicaCount 2 from the LiteLLM file; both pods admitted by the restricted namespace and Ready.
        await kube.waitDeploymentReady(FULLNAME, 240_000);
        const pods = (await kube.pods(SELECTOR)).filter((p) => !p.metadata?.deletionTimestamp);
        assert.equal(pods.length, 2, `proxy pods: ${pods.map((p) => p.metadata?.name).join(", ")}`);
        assert.ok(pods.every(isReady), "both proxy pods Ready");
        const ns = await kube.core.readNamespace({ name: restrictedNamespace });
        assert.equal(ns.metadata?.labels?.["pod-security.kubernetes.io/enforce"], "restricted");

        // The chart's ServiceAccount: created by the pre-install hook for the migration Job, then
        // installed as the release's own (no "already exists"), with the IRSA annotation.
        const sa = await kube.core.readNamespacedServiceAccount({ name: FULLNAME, namespace: restrictedNamespace });
        assert.equal(sa.metadata?.annotations?.["eks.amazonaws.com/role-arn"], "arn:aws:iam::123456789012:role/litellm");
        assert.equal(sa.metadata?.annotations?.["helm.sh/hook"], undefined, "the ServiceAccount left is the release's, not the hook's");
        assert.ok(pods.every((p) => p.spec?.serviceAccountName === FULLNAME));

        // The migration Job ran against the writer (the hook is deleted on success; its tables stay).
        const table = await pair.psql("primary", DATABASE, "SELECT to_regclass('tandem_verification_token') IS NOT NULL");
        assert.equal(table, "t", "tandem_verification_token exists on the primary after the migration hook");

        // Routing, on the database side: key creation on the primary, key lookups on the replica.
        const pod = pods[0]!.metadata!.name!;
        forward = await portForward(kube.kc, restrictedNamespace, pod, 4000);
        const tandem = new Tandem(forward.base, MASTER_KEY);
        const ready = await eventually(
          "readiness with the reader connected",
          () => tandem.readiness(),
          (r) => r.reader === "connected",
          {
            timeoutMs: 60_000,
            intervalMs: 500,
          },
        );
        assert.deepEqual(ready, { status: 200, writer: "connected", reader: "connected" });

        await pair.reset(DATABASE);
        const alias = `litellm-values-${randomBytes(3).toString("hex")}`;
        const { key } = await tandem.generateKey({ key_alias: alias });
        const created = await pair.count(DATABASE, KEY_INSERT);
        assert.ok(created.primary >= 1 && created.replica === 0, `key creation: INSERTs ${JSON.stringify(created)} (primary only)`);
        await pair.waitReplayed();
        // Read-your-writes: the fresh key is read from the writer until tandem has seen the replica replay it.
        const lookups = await eventually(
          "GET /key/info ×3 answered from the replica only",
          async () => {
            await pair.reset(DATABASE);
            for (let i = 0; i < 3; i++) {
              const info = await tandem.keyInfo(key);
              assert.equal(info.status, 200, info.text);
            }
            return pair.count(DATABASE, KEY_READ);
          },
          (l) => l.replica >= 3 && l.primary === 0,
          { timeoutMs: 60_000, intervalMs: 1000 },
        );

        // `helm test`: readiness through the Service, and reads reaching the reader, from inside the
        // restricted namespace (the test Pod must be admitted there too).
        const out = await helm(["test", RELEASE, "--namespace", restrictedNamespace, "--timeout", "3m", "--logs"]);
        assert.match(out, /Phase:\s+Succeeded/, out);
        assert.match(out, /reads reach the reader/, out);
        log(`${RELEASE}: 2 pods in a restricted namespace; ${lookups.replica} key lookups on the replica; helm test passed`);
      } catch (error) {
        log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
        await dumpBoth();
        throw error;
      }
    },
  );
});
