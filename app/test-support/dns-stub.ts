// A DNS server on loopback that the tests control: it answers A queries for
// the names it is given (AAAA with no records, anything else NXDOMAIN), so a
// test can give a reader address several records and change them at run time.
import { createSocket, type Socket } from "node:dgram";

export interface DnsStub {
  /** "127.0.0.1:port", for DATABASE_READ_REPLICA_DNS_SERVERS. */
  server: string;
  /** The A records of `name` from now on (none: the name does not exist). */
  set(name: string, addresses: readonly string[]): void;
  close(): Promise<void>;
}

export async function startDnsStub(): Promise<DnsStub> {
  const records = new Map<string, string[]>();
  const socket: Socket = createSocket("udp4");
  socket.on("message", (query, peer) => {
    const answer = respond(query, records);
    if (answer) socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  let closed: Promise<void> | undefined;
  return {
    server: `127.0.0.1:${socket.address().port}`,
    set: (name, addresses) => void records.set(name.toLowerCase(), [...addresses]),
    close: () => (closed ??= new Promise((resolve) => socket.close(() => resolve()))),
  };
}

function respond(query: Buffer, records: Map<string, string[]>): Buffer | undefined {
  if (query.length < 12) return undefined;
  // The question: length-prefixed labels, then type and class.
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const length = query[at]!;
    labels.push(query.subarray(at + 1, at + 1 + length).toString("ascii"));
    at += 1 + length;
  }
  const questionEnd = at + 5;
  if (questionEnd > query.length) return undefined;
  const type = query.readUInt16BE(at + 1);
  const name = labels.join(".").toLowerCase();
  const known = records.get(name);
  const answers = type === 1 ? (known ?? []) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
  header.writeUInt16BE(known ? 0x8180 : 0x8183, 2); // a response, recursion available; NXDOMAIN for unknown names
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records4 = answers.map((address) => {
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(1, 2); // A
    record.writeUInt16BE(1, 4); // IN
    record.writeUInt32BE(1, 6); // TTL 1 s
    record.writeUInt16BE(4, 10);
    address.split(".").forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
    return record;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records4]);
}
