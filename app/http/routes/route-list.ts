import { Router, type Express } from "express";
import { routeTable, type RouterStack } from "../route-table.js";

/** LiteLLM's GET /routes: every route this proxy serves, with its methods (public there, and here). */
export function routeListRoutes(app: Express): Router {
  const router = Router();
  router.get("/routes", (_req, res) => {
    res.json({ routes: routeTable(app.router as unknown as RouterStack) });
  });
  return router;
}
