// Which failures mean "this endpoint is unreachable" (worth falling back to
// the writer for) as opposed to "this query is wrong" (never rerouted: the
// writer would fail the same way, and hiding it would mask bugs).
//
// Errors reach us wrapped: pg's error, inside the driver adapter's mapped
// error, inside a PrismaClient*Error. We look at every layer.

const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

// SQLSTATE: class 08 is "connection exception"; 57P01-57P03 are shutdowns
// and "cannot connect now"; 53300 is too_many_connections.
const SQLSTATE_CODES = new Set(["57P01", "57P02", "57P03", "53300"]);

// Driver adapter error kinds (see @prisma/driver-adapter-utils).
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections", "TlsConnectionError"]);

// Prisma's own codes for reachability, timeouts and pool exhaustion. P2028: an interactive
// transaction could not start (no connection in time — say, while a failover recycles the pool)
// or expired; either way it was rolled back, nothing was applied.
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);

// "connection reached instance …": through an address shared by several instances, no
// connection reached the one wanted (it is down, or gone from behind the address).
const MESSAGES =
  /connection reached instance|Cannot use a pool after calling end on the pool|connection terminated|timeout exceeded when trying to connect|connection timeout|server closed the connection|terminating connection due to administrator command|the database system is (shutting down|starting up|in recovery)|Can't reach database server|Client has encountered a connection error|Connection ended unexpectedly|Query read timeout/i;

export function isConnectionError(error: unknown): boolean {
  return layers(error).some((layer) => {
    const code = stringField(layer, "code") ?? stringField(layer, "originalCode");
    if (code && (SOCKET_CODES.has(code) || SQLSTATE_CODES.has(code) || PRISMA_CODES.has(code) || /^08/.test(code))) return true;
    const kind = stringField(layer, "kind");
    if (kind && ADAPTER_KINDS.has(kind)) return true;
    const message = stringField(layer, "message") ?? stringField(layer, "originalMessage");
    return message !== undefined && MESSAGES.test(message);
  });
}

function layers(error: unknown): object[] {
  const seen: object[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.length < 16) {
    const next = queue.shift();
    if (typeof next !== "object" || next === null || seen.includes(next)) continue;
    seen.push(next);
    const record = next as Record<string, unknown>;
    queue.push(record.cause, record.meta, record.driverAdapterError);
    if (Array.isArray(record.errors)) queue.push(...(record.errors as unknown[]));
  }
  return seen;
}

function stringField(value: object, field: string): string | undefined {
  const v = (value as Record<string, unknown>)[field];
  return typeof v === "string" ? v : undefined;
}

/** SQLSTATE 25006: a standby refused a statement as a write (a raw INSERT … RETURNING, SELECT … FOR UPDATE; on the writer: a failover). */
export function isReadOnlyRefusal(error: unknown): boolean {
  return layers(error).some((layer) => {
    const code = stringField(layer, "code") ?? stringField(layer, "originalCode");
    if (code === "25006") return true;
    const message = stringField(layer, "message") ?? stringField(layer, "originalMessage");
    // "recovery is in progress": a WAL function (the position read after a write) on a standby.
    return message !== undefined && /cannot execute \S+ in a read-only transaction|recovery is in progress/i.test(message);
  });
}

/**
 * SQLSTATE class 28: the server refused the credentials of a new connection
 * (a rotated password the Secret file does not hold yet, or the reverse).
 * The server is up and connections already open keep working, so this is
 * neither "unreachable" nor a query error.
 */
export function isAuthFailure(error: unknown): boolean {
  return layers(error).some((layer) => {
    const code = stringField(layer, "code") ?? stringField(layer, "originalCode");
    if (code === "28P01" || code === "28000") return true;
    const message = stringField(layer, "message") ?? stringField(layer, "originalMessage");
    return message !== undefined && /password authentication failed|authentication failed for user/i.test(message);
  });
}

/**
 * The server refused the connection or it was cut before it was ready (no
 * listener, a reset, the peer closing): unlike a timeout, it says nothing of
 * how long the next try through the same address would take.
 */
export function isRefusedOrCut(error: unknown): boolean {
  return layers(error).some((layer) => {
    const code = stringField(layer, "code");
    if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EPIPE") return true;
    const message = stringField(layer, "message");
    return message !== undefined && /Connection terminated unexpectedly|server closed the connection/i.test(message);
  });
}
