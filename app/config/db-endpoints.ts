import { buildDatabaseUrl, DatabaseUrlError, endpointName, parseDatabaseUrl, sameDatabase } from "../db/url.js";
import { registerSecret } from "../observability/secrets.js";
import { SecretFile, SecretFileError } from "./secret-file.js";

export type Role = "writer" | "reader";

/**
 * One database endpoint, parsed once here and consumed by `db/`. A URL that
 * comes from a mounted Secret file is read again for every new connection
 * (`current()`), so a rotated password needs no restart.
 */
export interface EndpointConfig {
  role: Role;
  /** host:port — how logs, readiness and metrics name it; never a credential. */
  name: string;
  /** The URL as it was at start. */
  url: URL;
  /** The URL to open a new connection with: the file's current content, or `url`. */
  current(): URL;
  /** RDS IAM: the region the token is signed for; undefined = password auth. */
  iamRegion?: string;
  /**
   * The name certificates are checked against when it is not the host
   * connected to: an instance found behind a reader address is reached at
   * its own IP, and its certificate names the address.
   */
  tlsServername?: string;
}

/** The database variables this module reads (validated as strings by env.ts). */
export interface DatabaseEnv {
  DATABASE_URL?: string;
  DATABASE_URL_FILE?: string;
  DATABASE_HOST?: string;
  DATABASE_PORT?: number;
  DATABASE_USERNAME?: string;
  DATABASE_PASSWORD?: string;
  DATABASE_PASSWORD_FILE?: string;
  DATABASE_NAME?: string;
  DATABASE_PARAMS?: string;
  DATABASE_URL_READ_REPLICA?: string;
  DATABASE_URL_READ_REPLICA_FILE?: string;
  IAM_TOKEN_DB_AUTH?: boolean;
  AWS_REGION?: string;
  AWS_RDS_REGION?: string;
  AWS_RDS_READ_REPLICA_REGION?: string;
}

/** A bad database variable: the message names it and never quotes a secret. */
export class EndpointConfigError extends Error {
  override name = "EndpointConfigError";
}

export function databaseEndpoints(e: DatabaseEnv): { writer: EndpointConfig; readers: EndpointConfig[] } {
  const iam = e.IAM_TOKEN_DB_AUTH ?? false;
  const region = e.AWS_RDS_REGION ?? e.AWS_REGION;
  if (iam && !region) throw new EndpointConfigError("AWS_REGION (or AWS_RDS_REGION) must be set when IAM_TOKEN_DB_AUTH is true");
  const writer = describe("writer", writerSource(e, iam), iam ? region : undefined);
  const readers = readerSources(e).map((source) => describe("reader", source, iam ? (e.AWS_RDS_READ_REPLICA_REGION ?? region) : undefined));
  const names = new Set<string>();
  for (const reader of readers) {
    if (sameDatabase(reader.url, writer.url)) {
      throw new EndpointConfigError(`DATABASE_URL_READ_REPLICA lists the writer itself (${reader.name}); list only replicas`);
    }
    if (names.has(reader.name)) throw new EndpointConfigError(`DATABASE_URL_READ_REPLICA lists ${reader.name} twice`);
    names.add(reader.name);
  }
  return { writer, readers };
}

/** Where an endpoint's URL comes from: fixed at start, or read again from a file. */
interface UrlSource {
  first: URL;
  current(): URL;
}

function describe(role: Role, source: UrlSource, iamRegion: string | undefined): EndpointConfig {
  return { role, name: endpointName(source.first), url: source.first, current: source.current, iamRegion };
}

const fixed = (url: URL): UrlSource => ({ first: url, current: () => url });

function fromFile<T>(path: string, variable: string, parse: (content: string) => T, pick: (value: T) => URL): UrlSource {
  const file = new SecretFile(path, variable, parse);
  return { first: pick(file.current()), current: () => pick(file.current()) };
}

/** Parses a URL, registering its password as a secret; errors name the variable. */
function asUrl(value: string, variable: string): URL {
  try {
    const url = parseDatabaseUrl(value, variable);
    registerSecret(decodeURIComponent(url.password));
    return url;
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new EndpointConfigError(error.message);
    throw error;
  }
}

function oneOf(e: DatabaseEnv, variable: "DATABASE_URL" | "DATABASE_PASSWORD" | "DATABASE_URL_READ_REPLICA"): void {
  const fileVariable = `${variable}_FILE` as const;
  if (e[variable] !== undefined && e[variable] !== "" && e[fileVariable] !== undefined) {
    throw new EndpointConfigError(`${variable} and ${fileVariable} are both set; set one of them`);
  }
}

function guarded<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof SecretFileError || error instanceof DatabaseUrlError) throw new EndpointConfigError(error.message);
    throw error;
  }
}

// The chart's `db.useExisting` mode passes the URL in parts, so the password
// can come from a Secret key (or a mounted file) of its own.
function writerSource(e: DatabaseEnv, iam: boolean): UrlSource {
  oneOf(e, "DATABASE_URL");
  oneOf(e, "DATABASE_PASSWORD");
  const url = e.DATABASE_URL;
  const urlFile = e.DATABASE_URL_FILE;
  if (url !== undefined || urlFile !== undefined) {
    if (e.DATABASE_PARAMS) {
      throw new EndpointConfigError(
        "DATABASE_PARAMS applies only to a writer built from DATABASE_HOST; put the parameters in DATABASE_URL",
      );
    }
    if (urlFile === undefined) return fixed(asUrl(url ?? "", "DATABASE_URL"));
    return guarded(() =>
      fromFile(
        urlFile,
        "DATABASE_URL_FILE",
        (content) => asUrl(content, "DATABASE_URL_FILE"),
        (u) => u,
      ),
    );
  }
  if (!e.DATABASE_HOST) {
    throw new EndpointConfigError("DATABASE_URL must be set (or DATABASE_HOST with DATABASE_USERNAME and DATABASE_NAME)");
  }
  if (!e.DATABASE_USERNAME) throw new EndpointConfigError("DATABASE_USERNAME must be set when DATABASE_HOST is used");
  if (!e.DATABASE_NAME) throw new EndpointConfigError("DATABASE_NAME must be set when DATABASE_HOST is used");
  const passwordFile = e.DATABASE_PASSWORD_FILE;
  if (!iam && !e.DATABASE_PASSWORD && passwordFile === undefined) {
    throw new EndpointConfigError("DATABASE_PASSWORD must be set when DATABASE_HOST is used without IAM_TOKEN_DB_AUTH");
  }
  const { DATABASE_HOST: host, DATABASE_USERNAME: user, DATABASE_NAME: database } = e;
  const build = (password: string): URL => {
    registerSecret(password);
    const built = asUrl(buildDatabaseUrl({ host, port: e.DATABASE_PORT ?? 5432, user, password, database }), "DATABASE_HOST");
    // URL parameters (sslmode, application_name …) for the writer built from
    // parts: the chart's db.params, e.g. "sslmode=verify-full".
    for (const [name, value] of new URLSearchParams(e.DATABASE_PARAMS ?? "")) {
      if (!/^[a-z_]+$/.test(name)) throw new EndpointConfigError(`DATABASE_PARAMS has an invalid parameter name ${JSON.stringify(name)}`);
      built.searchParams.set(name, value);
    }
    return built;
  };
  if (passwordFile === undefined) return fixed(build(e.DATABASE_PASSWORD ?? ""));
  return guarded(() => fromFile(passwordFile, "DATABASE_PASSWORD_FILE", (password) => password, build));
}

/**
 * `DATABASE_URL_READ_REPLICA`: one URL, or several separated by commas. Its
 * file form names one file, or several separated by commas (one Secret key
 * each, as the chart mounts `db.secret.readReplicaUrlKeys`); each file holds
 * one URL or a comma-separated list.
 */
function readerSources(e: DatabaseEnv): UrlSource[] {
  oneOf(e, "DATABASE_URL_READ_REPLICA");
  const files = e.DATABASE_URL_READ_REPLICA_FILE;
  if (files === undefined) return urlList(e.DATABASE_URL_READ_REPLICA ?? "", "DATABASE_URL_READ_REPLICA").map(fixed);
  const variable = "DATABASE_URL_READ_REPLICA_FILE";
  return files.split(",").flatMap((path, i, all) => {
    if (path.trim() === "") throw new EndpointConfigError(`${variable} has an empty item (position ${i + 1} of ${all.length})`);
    return guarded(() => readerFile(path.trim(), variable));
  });
}

/** The readers listed in one file: fixed in number at start, their URLs (credentials) read again as the file changes. */
function readerFile(path: string, variable: string): UrlSource[] {
  let count: number | undefined;
  const list = new SecretFile(path, variable, (content) => {
    const urls = urlList(content, variable);
    if (count !== undefined && urls.length !== count) {
      throw new SecretFileError(`${variable} (${path}) now lists ${urls.length} readers, not ${count}; restart to change the reader set`);
    }
    count = urls.length;
    return urls;
  });
  return list.current().map((first, index) => ({ first, current: () => list.current()[index] ?? first }));
}

function urlList(value: string, variable: string): URL[] {
  if (value.trim() === "") return [];
  return value.split(",").map((item, index, all) => {
    const text = item.trim();
    if (text === "") throw new EndpointConfigError(`${variable} has an empty item (position ${index + 1} of ${all.length})`);
    return asUrl(text, all.length > 1 ? `${variable} item ${index + 1}` : variable);
  });
}
