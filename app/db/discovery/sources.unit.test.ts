// Discovery sources as pure functions: a Service's EndpointSlices as reader
// targets (which endpoints serve, at which port, which Service an address
// names) and Aurora's instance endpoints.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { serviceOf, sliceTargets } from "./kubernetes.js";
import { AuroraTopologySource, instancePatternOf } from "./aurora.js";

const slice = (
  endpoints: V1EndpointSlice["endpoints"],
  ports: V1EndpointSlice["ports"] = [{ name: "postgres", port: 5432 }],
  addressType = "IPv4",
): V1EndpointSlice => ({
  addressType,
  endpoints,
  ports,
});
const pod = (ip: string, extra: Partial<V1EndpointSlice["endpoints"][number]> = {}) => ({
  addresses: [ip],
  targetRef: { kind: "Pod", name: `pg-${ip.split(".").at(-1)}` },
  ...extra,
});

describe("EndpointSlice targets", () => {
  const table: Array<{ name: string; slices: V1EndpointSlice[]; port?: number; targets: string[] }> = [
    {
      name: "every ready endpoint, with its pod and zone",
      slices: [slice([pod("10.0.0.1", { zone: "a" }), pod("10.0.0.2", { zone: "b" })])],
      targets: ["10.0.0.1:5432 pg-1 a", "10.0.0.2:5432 pg-2 b"],
    },
    { name: "ready unset counts as ready", slices: [slice([pod("10.0.0.1", { conditions: {} })])], targets: ["10.0.0.1:5432 pg-1 -"] },
    {
      name: "an unready pod is left out",
      slices: [slice([pod("10.0.0.1", { conditions: { ready: false } }), pod("10.0.0.2")])],
      targets: ["10.0.0.2:5432 pg-2 -"],
    },
    {
      name: "a terminating pod is left out",
      slices: [slice([pod("10.0.0.1", { conditions: { ready: true, terminating: true } })])],
      targets: [],
    },
    {
      name: "several slices of one Service are merged",
      slices: [slice([pod("10.0.0.1")]), slice([pod("10.0.0.2")])],
      targets: ["10.0.0.1:5432 pg-1 -", "10.0.0.2:5432 pg-2 -"],
    },
    {
      name: "the Service's target port, whatever the address's port",
      slices: [slice([pod("10.0.0.1")], [{ name: "db", port: 6432 }])],
      targets: ["10.0.0.1:6432 pg-1 -"],
    },
    {
      name: "several ports: the one named like Postgres's",
      slices: [
        slice(
          [pod("10.0.0.1")],
          [
            { name: "metrics", port: 9187 },
            { name: "postgresql", port: 5433 },
          ],
        ),
      ],
      targets: ["10.0.0.1:5433 pg-1 -"],
    },
    {
      name: "several ports: the address's own port first",
      slices: [
        slice(
          [pod("10.0.0.1")],
          [
            { name: "metrics", port: 9187 },
            { name: "pg", port: 5432 },
          ],
        ),
      ],
      targets: ["10.0.0.1:5432 pg-1 -"],
    },
    { name: "FQDN slices (ExternalName-like) are skipped", slices: [slice([pod("db.example.com")], undefined, "FQDN")], targets: [] },
  ];
  for (const row of table) {
    it(row.name, () =>
      assert.deepEqual(
        sliceTargets(row.slices, row.port ?? 5432).map((t) => `${t.host}:${t.port} ${t.label ?? "-"} ${t.zone ?? "-"}`),
        row.targets,
      ),
    );
  }
});

describe("which Service an address names", () => {
  const table: Array<[string, { service?: string; namespace?: string }, { service: string; namespace: string }]> = [
    ["pg-ro.db", {}, { service: "pg-ro", namespace: "db" }],
    ["pg-ro.db.svc.cluster.local", {}, { service: "pg-ro", namespace: "db" }],
    ["pg-ro.db.svc", {}, { service: "pg-ro", namespace: "db" }],
    ["pg-ro", { namespace: "tenants" }, { service: "pg-ro", namespace: "tenants" }],
    ["replicas.internal.example.com", { service: "pg-ro", namespace: "db" }, { service: "pg-ro", namespace: "db" }],
  ];
  for (const [host, configured, expected] of table)
    it(`${host} → ${expected.namespace}/${expected.service}`, () => assert.deepEqual(serviceOf(host, configured), expected));

  it("a short name outside a pod, with no namespace given: an error saying what to set", () => {
    const before = process.env.POD_NAMESPACE;
    delete process.env.POD_NAMESPACE;
    try {
      assert.throws(() => serviceOf("pg-ro", {}), /DATABASE_READ_REPLICA_NAMESPACE/);
    } finally {
      if (before !== undefined) process.env.POD_NAMESPACE = before;
    }
  });
});

describe("Aurora instance endpoints", () => {
  const table: Array<[string, string | undefined]> = [
    ["mydb.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com", "?.c9akciq32.us-east-1.rds.amazonaws.com"],
    ["mydb.cluster-c9akciq32.eu-west-3.rds.amazonaws.com", "?.c9akciq32.eu-west-3.rds.amazonaws.com"],
    ["mydb.cluster-custom-c9akciq32.us-east-1.rds.amazonaws.com", "?.c9akciq32.us-east-1.rds.amazonaws.com"],
    ["mydb.cluster-ro-c9akciq32.cn-north-1.rds.amazonaws.com.cn", "?.c9akciq32.cn-north-1.rds.amazonaws.com.cn"],
    ["instance-1.c9akciq32.us-east-1.rds.amazonaws.com", undefined],
    ["pg-ro.db.svc.cluster.local", undefined],
  ];
  for (const [host, pattern] of table) it(`${host} → ${pattern ?? "none"}`, () => assert.equal(instancePatternOf(host), pattern));

  it("the topology's reader rows at their instance endpoints; the writer's row and odd identifiers left out", async () => {
    const source = new AuroraTopologySource("?.c9akciq32.us-east-1.rds.amazonaws.com", 5432, async () => [
      { server_id: "mydb-instance-2", writer: false },
      { server_id: "mydb-instance-1", writer: true },
      { server_id: "x;drop", writer: false },
    ]);
    assert.deepEqual(await source.targets(), [
      { host: "mydb-instance-2.c9akciq32.us-east-1.rds.amazonaws.com", port: 5432, label: "mydb-instance-2" },
    ]);
  });
});
