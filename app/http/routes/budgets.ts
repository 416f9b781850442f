import { Router } from "express";
import type { AppContext } from "../context.js";
import { adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import { budgetInfo, deleteBudget, listBudgets, newBudget, updateBudget } from "../../services/admin/budgets.js";
import { BudgetIds, DeleteBudget, NewBudget, UpdateBudget } from "./budget-fields.js";

/** LiteLLM's budget routes (its BudgetTable), the admin's. */
export function budgetRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;

  router.post("/budget/new", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await newBudget(db, validate(NewBudget, req.body)));
  });
  router.post("/budget/update", async (req, res) => {
    await adminOnly(ctx, req);
    const { budget_id, ...fields } = validate(UpdateBudget, req.body);
    res.json(await updateBudget(db, budget_id, fields));
  });
  router.post("/budget/info", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await budgetInfo(db, validate(BudgetIds, req.body).budgets));
  });
  router.get("/budget/list", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await listBudgets(db));
  });
  router.post("/budget/delete", async (req, res) => {
    await adminOnly(ctx, req);
    res.json(await deleteBudget(db, validate(DeleteBudget, req.body).id));
  });
  return router;
}
