// One /spend/logs row as LiteLLM's SpendLogs names it, shared with the admin UI's API client (no
// imports: the UI compiles it).

export interface SpendLogView {
  request_id: string;
  call_type: unknown;
  /** The key's hash. */
  api_key: string;
  spend: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  startTime: string;
  endTime: string;
  model: string;
  user: string | null;
  /** "" without one, as LiteLLM's column. */
  end_user: string;
  team_id: string | null;
  metadata: { call_type: unknown; cache_hit?: unknown; cache_key?: unknown };
  /** LiteLLM's strings: "True" or "False". */
  cache_hit: "True" | "False";
  cache_key: unknown;
}
