// Database URL helpers. Everything here is careful never to put a password in
// a string that could be logged: use `describeUrl` for anything human-facing.

export interface UrlParts {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export class DatabaseUrlError extends Error {}

export function parseDatabaseUrl(url: string, variable: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseUrlError(`${variable} is not a valid URL`);
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new DatabaseUrlError(`${variable} must be a postgresql:// URL (got ${parsed.protocol}//)`);
  }
  if (!parsed.hostname) throw new DatabaseUrlError(`${variable} has no host`);
  try {
    urlParts(parsed);
  } catch {
    throw new DatabaseUrlError(`${variable} has a malformed %-escape in its user, password or database name`);
  }
  return parsed;
}

export function urlParts(url: URL): UrlParts {
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres",
  };
}

export function buildDatabaseUrl(parts: UrlParts): string {
  const url = new URL("postgresql://placeholder");
  url.hostname = parts.host;
  url.port = String(parts.port);
  url.username = encodeURIComponent(parts.user);
  url.password = encodeURIComponent(parts.password);
  url.pathname = `/${encodeURIComponent(parts.database)}`;
  return url.toString();
}

/** `postgresql://user:****@host:port/db` — safe to print. */
export function describeUrl(url: string | URL): string {
  const parsed = typeof url === "string" ? new URL(url) : new URL(url.toString());
  if (parsed.password) parsed.password = "****";
  parsed.search = "";
  return parsed.toString();
}

/** `host:port`: how an endpoint is named in logs, readiness and metrics (never a credential). */
export function endpointName(url: URL): string {
  const { host, port } = urlParts(url);
  // postgresql: URLs are not "special" to WHATWG, so their host is not lowercased for us.
  return `${host.toLowerCase()}:${port}`;
}

/** An IP address or host name as it stands in a URL or before `:port`: IPv6 in brackets. */
export function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Same server and database (a "replica" that is the writer itself). */
export function sameDatabase(a: URL, b: URL): boolean {
  const [x, y] = [urlParts(a), urlParts(b)];
  return x.host.toLowerCase() === y.host.toLowerCase() && x.port === y.port && x.database === y.database;
}
