// GET /routes is read from Express's own router: routes of mounted routers
// with their methods, each path of a multi-path route, no middleware.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import express, { Router } from "express";
import { routeTable, type RouterStack } from "./route-table.js";

describe("route table (GET /routes)", () => {
  it("lists every route of the app and its mounted routers, with methods, in matching order; middleware is not a route", () => {
    const app = express();
    app.use((_req, _res, next) => next());
    const keys = Router();
    keys.post("/key/generate", (_req, res) => res.end());
    keys
      .route("/key/info")
      .get((_req, res) => res.end())
      .post((_req, res) => res.end());
    app.use(keys);
    const models = Router();
    models.get(["/v1/models", "/models"], (_req, res) => res.end());
    app.use(models);
    app.use(
      "/admin",
      Router().get("/stats", (_req, res) => res.end()),
    );
    app.get("/health", (_req, res) => res.end());
    assert.deepEqual(routeTable(app.router as unknown as RouterStack), [
      { path: "/key/generate", methods: ["POST"] },
      { path: "/key/info", methods: ["GET", "POST"] },
      { path: "/v1/models", methods: ["GET"] },
      { path: "/models", methods: ["GET"] },
      { path: "/admin/stats", methods: ["GET"] },
      { path: "/health", methods: ["GET"] },
    ]);
  });
});
