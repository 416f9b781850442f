/** LiteLLM's user id for the proxy admin (the master key): what it records as the creator of teams, budgets, models. */
export const PROXY_ADMIN_USER = "default_user_id";
