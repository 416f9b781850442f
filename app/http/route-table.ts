/** The parts of Express's router (the `router` package) a route table reads. */
interface Layer {
  rawPath?: string | string[];
  route?: { path: string | string[]; methods: Record<string, boolean | undefined> };
  handle?: { stack?: Layer[] };
}

/** A router as the table reads it (Express's `app.router`, a `Router()`). */
export type RouterStack = { stack: Layer[] };

export interface RouteEntry {
  path: string;
  methods: string[];
}

/**
 * Every route an Express router serves, mounted routers included, in the
 * order they match: what LiteLLM's GET /routes lists. Read from the router
 * itself, so the list cannot drift from what is served.
 */
export function routeTable(router: RouterStack, prefix = ""): RouteEntry[] {
  return router.stack.flatMap((layer): RouteEntry[] => {
    if (layer.route) {
      const methods = Object.keys(layer.route.methods)
        .filter((method) => layer.route!.methods[method] && method !== "_all")
        .map((method) => method.toUpperCase());
      return [layer.route.path].flat().map((path) => ({ path: prefix + path, methods }));
    }
    const nested = layer.handle?.stack;
    if (!nested) return [];
    const mount = typeof layer.rawPath === "string" && layer.rawPath !== "/" ? layer.rawPath : "";
    return routeTable({ stack: nested }, prefix + mount);
  });
}
