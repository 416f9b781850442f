import { randomUUID } from "node:crypto";
import type { RoutedClient } from "../../db/routing-client.js";
import { runWithConsistency } from "../../db/consistency.js";
import type { Prisma, StoredModel } from "../../generated/prisma/client.js";
import { EntryNotServable, ModelEntry, providerOf, servableDeployment, type Deployment, type Unserved } from "../../config/model-config.js";
import { fieldPath } from "../../config/field-path.js";
import { ApiError } from "../errors.js";
import { PROXY_ADMIN_USER } from "../admin/proxy-admin.js";
import { SecretUnreadable, type SecretBox } from "./secret-box.js";

/** The invalidation scope every pod reloads the stored models on. */
export const MODELS_SCOPE = "models";

/** litellm_params that are sealed in the row and never shown: the upstream's credentials. */
export const SECRET_PARAMS = ["api_key", "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "vertex_credentials"];

/** What /model/new takes (LiteLLM's Deployment): a name, how to call it, and what it is. */
export interface ModelInput {
  model_name: string;
  litellm_params: Record<string, unknown>;
  model_info?: Record<string, unknown>;
}

/** What building a deployment needs beside the row: the environment for os.environ/ references and the router's default timeout. */
export interface BuildContext {
  env: NodeJS.ProcessEnv;
  timeoutS: number;
  box: SecretBox;
}

/** The models kept in the database as the router takes them. */
export interface LoadedModels {
  deployments: Deployment[];
  unserved: Unserved[];
}

/** What the router already serves, for refusing a write that would clash with it. */
export interface ServedModels {
  allDeployments(): Deployment[];
  ownerTeam(model: string): string | undefined;
  deployments(model: string): Deployment[];
}

const seal = (params: Record<string, unknown>, box: SecretBox) =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, SECRET_PARAMS.includes(k) && typeof v === "string" ? box.seal(v) : v]));

const open = (params: Record<string, unknown>, box: SecretBox) =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, SECRET_PARAMS.includes(k) && typeof v === "string" ? box.open(v) : v]));

const withoutSecrets = (params: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(params).filter(([k]) => !SECRET_PARAMS.includes(k)));

const asRecord = (value: Prisma.JsonValue): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/**
 * One stored model as a deployment, or an EntryNotServable naming the field (`litellm_params.model`,
 * `model_info.mode` …) that makes it one tandem cannot serve. `where` prefixes the message.
 */
function build(input: ModelInput, id: string, where: string, at: BuildContext): Deployment {
  const parsed = ModelEntry.safeParse({ ...input, model_info: { ...input.model_info, id } });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EntryNotServable(`${where}.${fieldPath(issue.path)} ${issue.message}`);
  }
  return { ...servableDeployment(parsed.data, { where, id, env: at.env, timeoutS: at.timeoutS, unpriced: [] }), stored: true };
}

/** The field an EntryNotServable message names after `where.` (for the 400's `param`). */
function culprit(message: string, where: string): string {
  const rest = message.slice(where.length + 1);
  return /^[\w.[\]]+/.exec(rest)?.[0] ?? "litellm_params";
}

/** A model as LiteLLM's /model/new answers it: the row, its secrets left out. */
export function storedModelView(row: StoredModel) {
  return {
    model_id: row.model_id,
    model_name: row.model_name,
    litellm_params: withoutSecrets(asRecord(row.litellm_params)),
    model_info: { ...asRecord(row.model_info), id: row.model_id, db_model: true },
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    updated_at: row.updated_at.toISOString(),
    updated_by: row.updated_by,
  };
}

/**
 * Every stored model as the router takes it: one that cannot be served here (a provider tandem
 * lacks, a variable this pod does not have, a secret sealed under another key) is listed with why,
 * as the config file's are, and the rest serve. Read on a replica that has replayed this pod's and
 * the fleet's last model writes (else on the writer).
 */
export async function loadStoredModels(db: RoutedClient, at: BuildContext): Promise<LoadedModels> {
  const rows = await runWithConsistency({}, () => {
    db.$consistency.dependOn([MODELS_SCOPE]);
    return db.storedModel.findMany({ orderBy: { created_at: "asc" } });
  });
  const loaded: LoadedModels = { deployments: [], unserved: [] };
  for (const row of rows) {
    const params = asRecord(row.litellm_params);
    const where = `stored model ${row.model_id}`;
    try {
      const input = { model_name: row.model_name, litellm_params: open(params, at.box), model_info: asRecord(row.model_info) };
      loaded.deployments.push(build(input, row.model_id, where, at));
    } catch (error) {
      if (!(error instanceof EntryNotServable) && !(error instanceof SecretUnreadable)) throw error;
      const model = typeof params.model === "string" ? params.model : "";
      loaded.unserved.push({
        id: row.model_id,
        name: row.model_name,
        model,
        provider: providerOf(model),
        reason: `${where}: ${error.message}`,
      });
    }
  }
  return loaded;
}

/**
 * A write must leave a model that serves (nothing half-written): its fields valid, its provider
 * served, its os.environ/ variables set here, its id free, its team real, and its name not
 * another owner's group.
 */
async function checkWrite(db: RoutedClient, input: ModelInput, id: string, served: ServedModels, at: BuildContext, where: string) {
  try {
    build(input, id, where, at);
  } catch (error) {
    if (!(error instanceof EntryNotServable)) throw error;
    throw ApiError.badRequest(error.message, culprit(error.message, where));
  }
  const team = input.model_info?.team_id;
  if (typeof team === "string") {
    db.$consistency.dependOn([`team:${team}`]);
    if (!(await db.team.findUnique({ where: { team_id: team }, select: { team_id: true } })))
      throw ApiError.badRequest(`model_info.team_id: team ${JSON.stringify(team)} not found`, "model_info.team_id");
  }
  const others = served.deployments(input.model_name).filter((d) => d.id !== id);
  const owner = typeof team === "string" ? team : undefined;
  if (others.some((d) => d.teamId !== owner))
    throw ApiError.badRequest(
      `model_name: ${JSON.stringify(input.model_name)} is already ${others[0]!.teamId ? `team ${others[0]!.teamId}'s model` : "a model every team may be allowed"}; choose another name`,
      "model_name",
    );
}

const notFound = (id: string, param = "id") =>
  ApiError.notFound(`${param}: model ${JSON.stringify(id)} not found among the models kept in the database`, param);

/** A config file's model cannot be changed through the API (LiteLLM's rule too): it is the file's. */
function refuseConfigModel(served: ServedModels, id: string, param: string) {
  if (served.allDeployments().some((d) => d.id === id && !d.stored))
    throw ApiError.badRequest(`${param}: model ${JSON.stringify(id)} is defined in the config file; change it there`, param);
}

export async function newStoredModel(db: RoutedClient, input: ModelInput, served: ServedModels, at: BuildContext) {
  const given = input.model_info?.id;
  const id = typeof given === "string" && given.length > 0 ? given : randomUUID();
  refuseConfigModel(served, id, "model_info.id");
  await checkWrite(db, input, id, served, at, "model/new");
  const { id: _ignored, ...info } = input.model_info ?? {};
  try {
    const row = await db.storedModel.create({
      data: {
        model_id: id,
        model_name: input.model_name,
        litellm_params: seal(input.litellm_params, at.box) as Prisma.InputJsonObject,
        model_info: info as Prisma.InputJsonObject,
        created_by: PROXY_ADMIN_USER,
        updated_by: PROXY_ADMIN_USER,
      },
    });
    await db.$consistency.wrote([MODELS_SCOPE]);
    return storedModelView(row);
  } catch (error) {
    if ((error as { code?: string }).code === "P2002")
      throw ApiError.badRequest(`model_info.id: a model with id ${JSON.stringify(id)} already exists`, "model_info.id");
    throw error;
  }
}

/**
 * LiteLLM's /model/update and PATCH /model/{id}/update: the fields given replace the stored ones;
 * a secret not given (api_key) is kept. Checked whole, as a new model would be, before it is written.
 */
export async function updateStoredModel(db: RoutedClient, id: string, patch: Partial<ModelInput>, served: ServedModels, at: BuildContext) {
  refuseConfigModel(served, id, "model_info.id");
  db.$consistency.dependOn([MODELS_SCOPE]);
  const row = await db.storedModel.findUnique({ where: { model_id: id } });
  if (!row) throw notFound(id, "model_info.id");
  const { id: _ignored, ...info } = patch.model_info ?? {};
  // Only what the patch keeps needs opening: a secret sealed under an old key can be given anew.
  const kept = Object.fromEntries(Object.entries(asRecord(row.litellm_params)).filter(([k]) => !(k in (patch.litellm_params ?? {}))));
  let keptParams: Record<string, unknown>;
  try {
    keptParams = open(kept, at.box);
  } catch (error) {
    if (!(error instanceof SecretUnreadable)) throw error;
    throw ApiError.badRequest(`litellm_params: ${error.message}; give its secrets again`, "litellm_params");
  }
  const merged: ModelInput = {
    model_name: patch.model_name ?? row.model_name,
    litellm_params: { ...keptParams, ...patch.litellm_params },
    model_info: { ...asRecord(row.model_info), ...info },
  };
  await checkWrite(db, merged, id, served, at, "model/update");
  // Deleted meanwhile: nothing to update, and nothing made.
  const [updated] = await db.storedModel.updateManyAndReturn({
    where: { model_id: id },
    data: {
      model_name: merged.model_name,
      litellm_params: seal(merged.litellm_params, at.box) as Prisma.InputJsonObject,
      model_info: merged.model_info as Prisma.InputJsonObject,
      updated_by: PROXY_ADMIN_USER,
    },
  });
  if (!updated) throw notFound(id, "model_info.id");
  await db.$consistency.wrote([MODELS_SCOPE]);
  return storedModelView(updated);
}

export async function deleteStoredModel(db: RoutedClient, id: string, served: ServedModels) {
  refuseConfigModel(served, id, "id");
  const deleted = await db.storedModel.deleteMany({ where: { model_id: id } });
  if (deleted.count === 0) throw notFound(id);
  await db.$consistency.wrote([MODELS_SCOPE]);
  return { message: `Model: ${id} deleted successfully` };
}
