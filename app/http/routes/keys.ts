import { Router } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf, masterOnly } from "../auth.js";
import { validate } from "../validate.js";
import { deleteKeys, generateKey, keyInfo } from "../../services/keys.js";
import { ApiError } from "../../services/errors.js";
import { toToken } from "../../services/key-hash.js";

const GenerateKey = z.object({
  models: z.array(z.string().min(1)).optional(),
  max_budget: z.number().nonnegative().nullable().optional(),
  team_id: z.string().min(1).nullable().optional(),
  key_alias: z.string().min(1).max(255).nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  duration: z.string().nullable().optional(),
});

const DeleteKeys = z.object({ keys: z.array(z.string().min(1)).min(1) });

export function keyRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post("/key/generate", async (req, res) => {
    await masterOnly(ctx, req, res);
    res.json(await generateKey(ctx.database.db, validate(GenerateKey, req.body)));
  });

  // The master key may ask about any key; a key may ask about itself.
  router.get("/key/info", async (req, res) => {
    const caller = await callerOf(ctx, req, res);
    const { key } = validate(z.object({ key: z.string().min(1).optional() }), req.query, "query");
    if (caller.kind === "key") {
      const own = caller.key.token;
      if (key && toToken(key) !== own) {
        throw new ApiError(403, "a key may only look up itself", "auth_error", "forbidden");
      }
      res.json(await keyInfo(ctx.database.db, key ?? own));
      return;
    }
    if (!key) throw ApiError.badRequest("key: query parameter is required", "key");
    res.json(await keyInfo(ctx.database.db, key));
  });

  router.post("/key/delete", async (req, res) => {
    await masterOnly(ctx, req, res);
    res.json(await deleteKeys(ctx.database.db, validate(DeleteKeys, req.body).keys));
  });

  return router;
}
