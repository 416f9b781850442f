import type { Endpoint } from "../db/endpoint.js";

/** A reader endpoint as the router and the reader set see it: a name, a client that says which it is, and whether its pool is full. */
export function stubEndpoint(name: string, busy: () => boolean = () => false): Endpoint {
  return { name, description: name, client: { name }, saturated: busy, recycle: () => undefined } as unknown as Endpoint;
}
