// What a discovery source says of a target reaches the instance found there:
// the zone (locality) and the pod's name (readiness), and how it was found.
// A source that stands in for the Kubernetes API lists a real replica.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../config/env.js";
import { captureLogs } from "../test-support/logs.js";
import { replicasOnLoopbackHosts, type ReplicaHosts } from "../test-support/loopback-hosts.js";
import { startMigratedPair, type LocalPair } from "../test-support/pair.js";
import type { DiscoverySource, Target } from "./discovery/source.js";
import { ReaderSet } from "./reader-set.js";
import { ReaderTopology } from "./reader-topology.js";

describe("reader topology: a discovery source's targets become instances", () => {
  let pair: LocalPair;
  let replicas: ReplicaHosts;
  let topology: ReaderTopology;
  let listed: Target[] = [];
  const logs = captureLogs();
  const readers = new ReaderSet(logs.logger, {}, 1, "zone-a");

  before(async () => {
    pair = await startMigratedPair({ replicas: 2 });
    replicas = await replicasOnLoopbackHosts(pair);
    const config = loadConfig({
      DATABASE_URL: pair.primary.url,
      DATABASE_URL_READ_REPLICA: replicas.urlAt("pg-ro.db.svc"),
      MASTER_KEY: "sk-x",
    });
    const source: DiscoverySource = { kind: "kubernetes", complete: true, targets: async () => listed, close: () => undefined };
    topology = new ReaderTopology(config.readers, readers, { poolLimit: 2, log: logs.logger, forgetAfterMs: 10_000 }, () => source);
    listed = [
      { host: replicas.hosts[0]!, port: replicas.port, zone: "zone-a", label: "pg-0" },
      { host: replicas.hosts[1]!, port: replicas.port, zone: "zone-b", label: "pg-1" },
    ];
  });
  after(async () => {
    for (const member of readers.members) await member.endpoint.close(1000);
    topology?.close();
    await replicas?.close();
    pair?.stop();
  });

  it("each target's instance carries its zone and pod, found by the source, behind the configured address", async () => {
    await topology.refresh();
    assert.deepEqual(
      topology.addresses.map((a) => a.name),
      replicas.hosts.slice(0, 2).map((h) => `${h}:${replicas.port}`),
      "the targets are probed, not the address itself",
    );
    await Promise.all(topology.addresses.map((address) => address.round(3000)));
    const views = readers.members.map((m) => readers.view(m));
    assert.deepEqual(views.map((v) => [v.pod, v.zone, v.local, v.found_by, v.address]).sort(), [
      ["pg-0", "zone-a", true, "kubernetes", `pg-ro.db.svc:${replicas.port}`],
      ["pg-1", "zone-b", false, "kubernetes", `pg-ro.db.svc:${replicas.port}`],
    ]);
  });

  it("a target the source no longer lists (a complete listing) takes its instance out at once", async () => {
    listed = listed.slice(1);
    await topology.refresh();
    assert.deepEqual(
      readers.members.map((m) => m.view().pod),
      ["pg-1"],
    );
  });
});
