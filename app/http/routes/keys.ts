import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { AppContext } from "../context.js";
import { callerOf, adminOnly } from "../auth.js";
import { validate } from "../validate.js";
import { deleteKeys, generateKey, keyInfo, listKeys, regenerateKey, updateKey } from "../../services/admin/keys.js";
import { ApiError } from "../../services/errors.js";
import { isAdmin, newKeyFields, requireOwnKeys, selfEditableFields } from "../../services/access/key-ownership.js";
import { toToken } from "../../services/access/key-hash.js";
import { pageOf } from "../../services/admin/paging.js";
import { GenerateKey, KeyFields, KeyValue, PageNumber, PageSize } from "./fields.js";

const UpdateKey = z.object({ ...KeyFields, key: z.string().min(1) });
const KeyOnly = z.object({ key: z.string().min(1) });
const RegenerateKey = z.object({ ...KeyFields, key: z.string().min(1).optional(), new_key: KeyValue.optional() });
const DeleteKeys = z
  .object({ keys: z.array(z.string().min(1)).optional(), key_aliases: z.array(z.string().min(1)).optional() })
  .refine((b) => (b.keys?.length ?? 0) + (b.key_aliases?.length ?? 0) > 0, { message: "give keys or key_aliases", path: ["keys"] });
const ListKeys = z.object({
  page: PageNumber,
  size: PageSize(10),
  user_id: z.string().min(1).optional(),
  team_id: z.string().min(1).optional(),
  key_alias: z.string().min(1).optional(),
  search: z.string().min(1).max(256).optional(),
  return_full_object: z.enum(["true", "false"]).optional(),
});

/** LiteLLM's key management routes; all but /key/info are the master key's. */
export function keyRoutes(ctx: AppContext): Router {
  const router = Router();
  const db = ctx.database.db;

  // The admin manages every key; a user's key (LiteLLM's internal_user) that user's own keys.
  router.post("/key/generate", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const input = validate(GenerateKey, req.body);
    if (isAdmin(caller)) {
      res.json(await generateKey(db, input));
      return;
    }
    res.json(await generateKey(db, newKeyFields(caller, input)));
  });

  router.post("/key/update", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const { key, ...fields } = validate(UpdateKey, req.body);
    if (!isAdmin(caller)) {
      selfEditableFields(caller, fields);
      await requireOwnKeys(db, caller, [key]);
    }
    res.json(await updateKey(db, key, fields));
  });

  const regenerate = async (req: Request, res: Response) => {
    const caller = await callerOf(ctx, req.headers);
    const { key: bodyKey, ...fields } = validate(RegenerateKey, req.body);
    const key = (req.params.key as string | undefined) ?? bodyKey;
    if (!key) throw ApiError.badRequest("key: Required (in the body, or as /key/{key}/regenerate)", "key");
    if (!isAdmin(caller)) {
      selfEditableFields(caller, fields);
      await requireOwnKeys(db, caller, [key]);
    }
    res.json(await regenerateKey(db, key, fields));
  };
  router.post("/key/regenerate", regenerate);
  router.post("/key/:key/regenerate", regenerate);

  for (const [path, blocked] of [
    ["/key/block", true],
    ["/key/unblock", false],
  ] as const) {
    router.post(path, async (req, res) => {
      await adminOnly(ctx, req);
      const { key } = validate(KeyOnly, req.body);
      const { key: _key, ...view } = await updateKey(db, key, { blocked });
      res.json(view);
    });
  }

  router.get("/key/list", async (req, res) => {
    await adminOnly(ctx, req);
    const { page, size, return_full_object, ...filter } = validate(ListKeys, req.query, "query");
    res.json(await listKeys(db, { ...filter, return_full_object: return_full_object === "true" }, pageOf(page, size)));
  });

  // The master key may ask about any key; a key about itself, with or without ?key=.
  router.get("/key/info", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const { key } = validate(z.object({ key: z.string().min(1).optional() }), req.query, "query");
    if (caller.kind === "key") {
      const own = caller.key.token;
      if (key && toToken(key) !== own && !isAdmin(caller)) {
        // LiteLLM answers 404 for a key that does not exist, and 403 for one that is not the caller's.
        await keyInfo(db, key);
        throw ApiError.forbidden("You are not allowed to access this key's info: a key may only look up itself", "key");
      }
      res.json(await keyInfo(db, key ?? own));
      return;
    }
    if (!key) throw ApiError.badRequest("key: query parameter is required with the master key", "key");
    res.json(await keyInfo(db, key));
  });

  router.post("/key/delete", async (req, res) => {
    const caller = await callerOf(ctx, req.headers);
    const { keys, key_aliases } = validate(DeleteKeys, req.body);
    if (!isAdmin(caller)) await requireOwnKeys(db, caller, keys ?? [], key_aliases ?? []);
    res.json(await deleteKeys(db, keys ?? [], key_aliases ?? []));
  });

  return router;
}
