import { z } from "zod";

// LiteLLM's model management bodies (its Deployment and updateDeployment). The admin UI's client is typed
// from them. What each field may hold is checked once the whole model is known (stored-models.ts), by
// the same rules as the config file's model_list.

const id = z.string().min(1).max(256);
// LiteLLM's clients send null for a parameter they do not set (its own test: api_key from an unset
// variable), and LiteLLM drops them: null is "not given", here too.
const withoutNulls = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) as T;
const params = z
  .object({ model: z.string().min(1, "name the provider and model, e.g. openai/gpt-4o") })
  .loose()
  .transform(withoutNulls);
const info = z.object({ id: id.optional() }).loose();

/** /model/new: a name clients ask for, how to call it (litellm_params.model names the provider), and what it is. */
export const NewModel = z.object({ model_name: z.string().min(1).max(256), litellm_params: params, model_info: info.optional() });

/** /model/update: the model's id in model_info, and the fields that change. */
export const UpdateModel = z.object({
  model_name: z.string().min(1).max(256).optional(),
  litellm_params: z.object({}).loose().transform(withoutNulls).optional(),
  model_info: z.object({ id }).loose(),
});

/** PATCH /model/{id}/update: the id is in the path. */
export const PatchModel = UpdateModel.extend({ model_info: info.optional() });

export const DeleteModel = z.object({ id });
