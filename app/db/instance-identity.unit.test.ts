// How a connection names the instance it reached: the same instance always
// gets the same name, whichever address the connection went through.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { identityOf, sampleOf } from "./instance-identity.js";

describe("instance identity", () => {
  const table: Array<{ name: string; row: Parameters<typeof identityOf>[0]; id: string }> = [
    {
      name: "the server's own address and port (a pod IP behind a Service)",
      row: { addr: "10.244.1.7", port: 5432, aurora: null },
      id: "10.244.1.7:5432",
    },
    { name: "an IPv6 server address is bracketed", row: { addr: "fd00::7", port: 5432, aurora: null }, id: "[fd00::7]:5432" },
    {
      name: "Aurora's instance identifier wins over the address",
      row: { addr: "10.0.3.9", port: 5432, aurora: "db-reader-2" },
      id: "db-reader-2",
    },
    {
      name: "a Unix socket has no server address: the address it was reached through",
      row: { addr: null, port: null, aurora: null },
      id: "replica.sock",
    },
  ];
  for (const row of table) it(row.name, () => assert.equal(identityOf(row.row, "replica.sock").id, row.id));

  it("a probe row: who answered, whether a standby, how far it replayed", () => {
    assert.deepEqual(sampleOf({ addr: "127.0.0.1", port: 6001, aurora: null, standby: true, replay: "0/16B3748" }, "x"), {
      identity: { id: "127.0.0.1:6001" },
      standby: true,
      replay: 0x16b3748n,
    });
  });
});
