/** One page of a list, 1-based as LiteLLM's list endpoints count them. */
export interface Page {
  page: number;
  size: number;
  skip: number;
}

export function pageOf(page: number, size: number): Page {
  return { page, size, skip: (page - 1) * size };
}

/** LiteLLM's /key/list paging fields. */
export function paged(page: Page, total: number) {
  return { total_count: total, current_page: page.page, total_pages: Math.max(1, Math.ceil(total / page.size)) };
}
