// The analytics answers' shapes, shared with the admin UI's API client (no imports: the UI compiles it).

/** LiteLLM's SpendMetrics, one day's (or one breakdown entry's) sums. */
export interface Metrics {
  spend: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** tandem's: requests answered from the response cache. */
  cache_hits: number;
}
