import type { z } from "zod";
import type { GenerateKey, MemberAdd, NewTeam, NewUser } from "../../http/routes/fields.js";
import type { DailyActivityQuery, TopSpendQuery } from "../../http/routes/analytics-fields.js";
import type { SpendLogsQuery } from "../../http/routes/spend-fields.js";
import type { NewModel } from "../../http/routes/model-fields.js";
import type { EndUserBody, NewBudget } from "../../http/routes/budget-fields.js";
import type { NewOrganization, OrganizationMemberAdd } from "../../http/routes/organization-fields.js";
import type { Metrics } from "../../services/billing/analytics-shapes.js";
import type { SpendLogView } from "../../services/billing/spend-log-shape.js";

// The admin UI's API client. Requests are typed by the zod schemas the server validates them with;
// every call carries the session's CSRF token (the session itself is an HttpOnly cookie the page
// never sees). An error answer becomes an ApiFailure with the server's own message.

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A query schema's parsed shape, its defaulted parameters optional (the server fills them in). */
type QueryOf<S extends z.ZodType, Defaulted extends keyof z.infer<S>> = Omit<z.infer<S>, Defaulted> & Partial<Pick<z.infer<S>, Defaulted>>;

/** /spend/logs's parameters as the address carries them: the schema's names, each a string or a number. */
export type SpendLogsParams = { [K in keyof z.input<typeof SpendLogsQuery>]?: string | number };

let csrfToken: string | undefined;

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        ...(csrfToken ? { "x-csrf-token": csrfToken } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(0, "tandem did not answer (network error)");
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiFailure(res.status, `unexpected answer (${res.status})`);
  }
  if (!res.ok) {
    const error = (json as { error?: { message?: unknown } | string; detail?: unknown }).error;
    const message =
      typeof error === "string" ? error : typeof error?.message === "string" ? error.message : `request failed (${res.status})`;
    throw new ApiFailure(res.status, message);
  }
  return json as T;
}

const query = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== "");
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : "";
};

export interface SessionView {
  user_id: string;
  csrf_token: string;
  expires: string;
  /** Models can be added and deleted here (general_settings.store_model_in_db). */
  store_model_in_db: boolean;
}

export interface KeyView {
  token: string;
  key_name: string;
  key_alias: string | null;
  user_id: string | null;
  team_id: string | null;
  spend: number;
  max_budget: number | null;
  models: string[];
  rpm_limit: number | null;
  tpm_limit: number | null;
  blocked: boolean | null;
  expires: string | null;
}

export interface TeamView {
  team_id: string;
  team_alias: string | null;
  spend: number;
  max_budget: number | null;
  models: string[];
  members_with_roles: Array<{ user_id: string | null; user_email: string | null; role: string }>;
  blocked: boolean;
}

export interface UserView {
  user_id: string;
  user_email: string | null;
  user_role: string;
  spend: number;
  max_budget: number | null;
  teams: string[];
}

export interface DailyActivity {
  results: Array<{
    date: string;
    metrics: Metrics;
    breakdown: {
      models: Record<string, { metrics: Metrics }>;
      api_keys: Record<string, { metrics: Metrics; metadata: { key_alias: string | null } }>;
    };
  }>;
  metadata: { total_spend: number; total_api_requests: number; total_tokens: number; page: number; total_pages: number; has_more: boolean };
}

export interface ModelInfo {
  model_name: string;
  litellm_params: { model: string; api_base?: string };
  model_info: {
    id: string;
    mode: string;
    input_cost_per_token: number;
    output_cost_per_token: number;
    price_source: string;
    cooling_down: boolean;
    /** Kept in the database (added through /model/new), not the config file. */
    db_model: boolean;
  };
}

/** A budget as LiteLLM's BudgetTable shows it (the fields the pages use). */
export interface BudgetView {
  budget_id: string;
  max_budget: number | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  budget_duration: string | null;
  budget_reset_at: string | null;
}

/** An end user (LiteLLM's customer) with its budget. */
export interface EndUserView {
  user_id: string;
  alias: string | null;
  spend: number;
  blocked: boolean;
  allowed_model_region: string | null;
  default_model: string | null;
  budget_id: string | null;
  litellm_budget_table: BudgetView | null;
}

/** An organization with its budget, members and teams (/organization/list). */
export interface OrganizationView {
  organization_id: string;
  organization_alias: string;
  models: string[];
  spend: number;
  litellm_budget_table: BudgetView | null;
  members: Array<{ user_id: string; user_role: string; user_email: string | null }>;
  teams: Array<{ team_id: string; team_alias: string | null }>;
}

/** GET /health for one deployment: healthy, or unhealthy with the error. */
export interface HealthView {
  healthy_endpoints: Array<{ model_id: string }>;
  unhealthy_endpoints: Array<{ model_id: string; error: string }>;
}

export interface DatabaseView {
  writer: { state: string };
  reader: { state: string; lag_ms: number | null };
  /** One per instance: listed, or found behind an address (a Service, a balancer). */
  readers: Array<{
    name: string;
    state: string;
    lag_ms: number | null;
    /** The health probe's shortest recent round trip; `local`: near enough to share reads with the closest. */
    rtt_ms: number | null;
    /** The zone the platform puts it in (Kubernetes discovery), when it says. */
    zone?: string;
    /** The pod it is (Kubernetes discovery). */
    pod?: string;
    local: boolean;
    address: string;
    found_by: string;
    reads: number;
  }>;
  read_fallbacks: Record<string, number>;
  spend_queue: { length: number; oldest_age_ms: number };
  redis: string;
}

export const api = {
  async session(): Promise<SessionView | undefined> {
    const session = await call<({ signed_in: true } & SessionView) | { signed_in: false }>("GET", "/ui/api/session");
    if (!session.signed_in) return undefined;
    csrfToken = session.csrf_token;
    return session;
  },
  async signIn(username: string, password: string): Promise<SessionView> {
    const session = await call<SessionView>("POST", "/login", { username, password });
    csrfToken = session.csrf_token;
    return session;
  },
  async signOut(): Promise<void> {
    await call("POST", "/ui/api/logout");
    csrfToken = undefined;
  },

  keys: (params: { page: number; size: number; search?: string }) =>
    call<{ keys: KeyView[]; total_count: number; total_pages: number }>(
      "GET",
      `/key/list${query({ ...params, return_full_object: "true" })}`,
    ),
  generateKey: (body: z.input<typeof GenerateKey>) => call<KeyView & { key: string }>("POST", "/key/generate", body),
  blockKey: (key: string, blocked: boolean) => call<KeyView>("POST", blocked ? "/key/block" : "/key/unblock", { key }),
  regenerateKey: (key: string) => call<KeyView & { key: string }>("POST", "/key/regenerate", { key }),
  deleteKeys: (keys: string[]) => call<{ deleted_keys: string[] }>("POST", "/key/delete", { keys }),

  teams: () => call<TeamView[]>("GET", "/team/list"),
  newTeam: (body: z.input<typeof NewTeam>) => call<TeamView>("POST", "/team/new", body),
  addMember: (body: z.input<typeof MemberAdd>) => call<unknown>("POST", "/team/member_add", body),
  deleteTeams: (teamIds: string[]) => call<unknown>("POST", "/team/delete", { team_ids: teamIds }),

  users: (params: { page: number; page_size: number }) =>
    call<{ users: UserView[]; total: number; total_pages: number }>("GET", `/user/list${query(params)}`),
  newUser: (body: z.input<typeof NewUser>) => call<UserView>("POST", "/user/new", body),
  deleteUsers: (userIds: string[]) => call<unknown>("POST", "/user/delete", { user_ids: userIds }),

  models: () => call<{ data: ModelInfo[] }>("GET", "/model/info"),
  newModel: (body: z.input<typeof NewModel>) => call<{ model_id: string }>("POST", "/model/new", body),
  deleteModel: (id: string) => call<unknown>("POST", "/model/delete", { id }),
  budgets: () => call<BudgetView[]>("GET", "/budget/list"),
  newBudget: (body: z.input<typeof NewBudget>) => call<BudgetView>("POST", "/budget/new", body),
  deleteBudget: (id: string) => call<unknown>("POST", "/budget/delete", { id }),

  endUsers: () => call<EndUserView[]>("GET", "/end_user/list"),
  newEndUser: (body: z.input<typeof EndUserBody>) => call<EndUserView>("POST", "/end_user/new", body),
  blockEndUsers: (ids: string[], blocked: boolean) =>
    call<unknown>("POST", blocked ? "/end_user/block" : "/end_user/unblock", { user_ids: ids }),
  deleteEndUsers: (ids: string[]) => call<unknown>("POST", "/end_user/delete", { user_ids: ids }),

  organizations: () => call<OrganizationView[]>("GET", "/organization/list"),
  newOrganization: (body: z.input<typeof NewOrganization>) => call<OrganizationView>("POST", "/organization/new", body),
  addOrganizationMember: (body: z.input<typeof OrganizationMemberAdd>) => call<unknown>("POST", "/organization/member_add", body),
  deleteOrganizations: (ids: string[]) => call<unknown>("POST", "/organization/delete", { organization_ids: ids }),

  modelHealth: (modelId: string) => call<HealthView>("GET", `/health${query({ model_id: modelId })}`),

  dailyActivity: (params: QueryOf<typeof DailyActivityQuery, "page" | "page_size">) =>
    call<DailyActivity>("GET", `/user/daily/activity${query(params)}`),
  topKeys: (params: QueryOf<typeof TopSpendQuery, "limit">) =>
    call<Array<{ api_key: string; key_alias: string | null; key_name: string | null; total_spend: number }>>(
      "GET",
      `/global/spend/keys${query(params)}`,
    ),
  topModels: (params: QueryOf<typeof TopSpendQuery, "limit">) =>
    call<Array<{ model: string; total_spend: number; requests: number }>>("GET", `/global/spend/models${query(params)}`),
  topTeams: (params: QueryOf<typeof TopSpendQuery, "limit">) =>
    call<{ total_spend_per_team: Array<{ team_id: string | null; team_alias: string | null; total_spend: number }> }>(
      "GET",
      `/global/spend/teams${query(params)}`,
    ),

  spendLogs: (params: SpendLogsParams) => call<SpendLogView[]>("GET", `/spend/logs${query(params)}`),

  database: () => call<DatabaseView>("GET", "/ui/api/database"),
};
