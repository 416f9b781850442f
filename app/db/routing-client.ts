import type { PrismaClient } from "../generated/prisma/client.js";
import { NO_REPLICA_CONSISTENCY, type Consistency } from "./consistency.js";

/**
 * The read/write split, in the spirit of Drizzle's `withReplicas` and
 * LiteLLM's RoutingPrismaWrapper: one table of read methods goes to the
 * reader; everything else — writes, raw executes, transactions, `$extends`,
 * anything Prisma adds later — falls through to the writer untouched.
 */
export const READ_METHODS: ReadonlySet<string> = new Set([
  "findFirst",
  "findFirstOrThrow",
  "findMany",
  "findUnique",
  "findUniqueOrThrow",
  "count",
  "aggregate",
  "groupBy",
]);
export const RAW_READ_METHODS: ReadonlySet<string> = new Set(["$queryRaw", "$queryRawUnsafe"]);

/** Decides where a read actually runs: on a reader's client it picks, or on the writer when none will do. */
export interface ReadRouter {
  read<T>(onReader: (reader: PrismaClient) => PromiseLike<T>, onWriter: () => PromiseLike<T>): Promise<T>;
}

/**
 * Used exactly like PrismaClient. `$primary()` is the writer, for reads that
 * must see a fresh write from elsewhere, locks and sequences; `$consistency`
 * is read-your-writes for what this pod writes.
 */
export type RoutedClient = PrismaClient & { $primary(): PrismaClient; $consistency: Consistency };

/** The client inside `db.$transaction(async (tx) => …)`: every statement on the writer. */
export type WriterTransaction = Parameters<Parameters<RoutedClient["$transaction"]>[0]>[0];

type Call = (client: PrismaClient) => PromiseLike<unknown>;

/** The router hands each read the client of the reader it picked (clients change when pools are recycled). */
export function withReadReplica(writer: PrismaClient, router: ReadRouter, consistency: Consistency = NO_REPLICA_CONSISTENCY): RoutedClient {
  // Reads are lazy like Prisma's own promises: nothing runs until awaited.
  // That lets a read handed to a batch `$transaction` run on the writer
  // inside that transaction instead of on the reader beforehand.
  const writerCallOf = new WeakMap<object, () => PromiseLike<unknown>>();

  const routedRead = (call: Call): PromiseLike<unknown> => {
    let started: Promise<unknown> | undefined;
    const run = () =>
      (started ??= router.read(
        (reader) => call(reader),
        () => call(writer),
      ));
    const read: Promise<unknown> = {
      then: (ok, fail) => run().then(ok, fail),
      catch: (fail) => run().catch(fail),
      finally: (done) => run().finally(done),
      [Symbol.toStringTag]: "PrismaPromise",
    };
    writerCallOf.set(read, () => call(writer));
    return read;
  };

  const models = new Map<string, unknown>();
  const routedModel = (name: string, delegate: object): unknown => {
    let proxy = models.get(name);
    if (!proxy) {
      proxy = new Proxy(delegate, {
        get(_target, method) {
          if (typeof method === "string" && READ_METHODS.has(method)) {
            return (...args: unknown[]) => routedRead((client) => invoke(modelOf(client, name), method, args));
          }
          // The writer's delegate as it is now: its client changes when a failover recycles the pool.
          return bound(modelOf(writer, name), method);
        },
      });
      models.set(name, proxy);
    }
    return proxy;
  };

  const transaction = (input: unknown, ...rest: unknown[]): unknown => {
    const batch = Array.isArray(input) ? input.map((item: object) => writerCallOf.get(item)?.() ?? item) : input;
    return invoke(writer, "$transaction", [batch, ...rest]);
  };

  return new Proxy(writer, {
    get(target, prop) {
      if (prop === "$primary") return () => writer;
      if (prop === "$consistency") return consistency;
      if (prop === "$transaction") return transaction;
      if (typeof prop === "string" && RAW_READ_METHODS.has(prop)) {
        return (...args: unknown[]) => routedRead((client) => invoke(client, prop, args));
      }
      const value: unknown = Reflect.get(target, prop);
      if (typeof prop === "string" && isModelDelegate(prop, value)) return routedModel(prop, value);
      return bound(target, prop);
    },
  }) as RoutedClient;
}

/** Single-database mode: the writer itself, plus `$primary()` so call sites need no branches. */
export function withoutReplica(writer: PrismaClient, consistency: Consistency = NO_REPLICA_CONSISTENCY): RoutedClient {
  return new Proxy(writer, {
    get: (target, prop) => (prop === "$primary" ? () => writer : prop === "$consistency" ? consistency : bound(target, prop)),
  }) as RoutedClient;
}

function isModelDelegate(prop: string, value: unknown): value is object {
  return !prop.startsWith("$") && !prop.startsWith("_") && typeof value === "object" && value !== null && "findMany" in value;
}

function modelOf(client: PrismaClient, name: string): object {
  return Reflect.get(client, name) as object;
}

function invoke(target: object, method: string, args: unknown[]): PromiseLike<unknown> {
  const fn = Reflect.get(target, method) as (...a: unknown[]) => PromiseLike<unknown>;
  return fn.apply(target, args);
}

function bound(target: object, prop: string | symbol): unknown {
  const value: unknown = Reflect.get(target, prop);
  return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}
