import { Router, type Request } from "express";
import type { AppContext } from "../context.js";
import { adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import { ApiError } from "../../services/errors.js";
import { deleteStoredModel, newStoredModel, updateStoredModel } from "../../services/models/stored-models.js";
import { DeleteModel, NewModel, PatchModel, UpdateModel } from "./model-fields.js";

/**
 * LiteLLM's model management (/model/new, /model/update, PATCH /model/{id}/update, /model/delete),
 * the admin's, with general_settings.store_model_in_db. Each write is served by this pod before it
 * answers, and by the others once they hear of it.
 */
export function modelManagementRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;

  const stored = async (req: Request) => {
    await adminOnly(ctx, req);
    if (!ctx.storedModels)
      throw ApiError.badRequest(
        "store_model_in_db: models are kept in the database only with general_settings.store_model_in_db: true (or STORE_MODEL_IN_DB=True)",
        "store_model_in_db",
      );
    return ctx.storedModels;
  };

  router.post(["/model/new", "/v1/model/new"], async (req, res) => {
    const { sync, at } = await stored(req);
    const model = await newStoredModel(db, validate(NewModel, req.body), ctx.router, at);
    await sync.refresh();
    res.json(model);
  });
  router.post(["/model/update", "/v1/model/update"], async (req, res) => {
    const { sync, at } = await stored(req);
    const body = validate(UpdateModel, req.body);
    const model = await updateStoredModel(db, body.model_info.id, body, ctx.router, at);
    await sync.refresh();
    res.json(model);
  });
  router.patch(["/model/:id/update", "/v1/model/:id/update"], async (req, res) => {
    const { sync, at } = await stored(req);
    const model = await updateStoredModel(db, String(req.params.id), validate(PatchModel, req.body), ctx.router, at);
    await sync.refresh();
    res.json(model);
  });
  router.post(["/model/delete", "/v1/model/delete"], async (req, res) => {
    const { sync } = await stored(req);
    const answer = await deleteStoredModel(db, validate(DeleteModel, req.body).id, ctx.router);
    await sync.refresh();
    res.json(answer);
  });
  return router;
}
