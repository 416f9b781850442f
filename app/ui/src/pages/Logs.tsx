import { useState, type FormEvent } from "react";
import { Button, Group, Stack, Table, Text, TextInput } from "@mantine/core";
import { api, type SpendLogsParams } from "../api.js";
import { DataTable, DateRange, ErrorNote, isoDay, usd } from "../components.js";
import { useLoad } from "../use-load.js";

const PAGE_SIZE = 50;
const FILTERS = [
  ["api_key", "Key or key hash"],
  ["user_id", "User"],
  ["team_id", "Team"],
  ["end_user", "End user"],
  ["request_id", "Request id"],
] as const;
type Filters = Record<(typeof FILTERS)[number][0], string>;
const NO_FILTERS: Filters = { api_key: "", user_id: "", team_id: "", end_user: "", request_id: "" };

/**
 * Spend rows newest first, one page at a time, from /spend/logs on the replica. A date range is
 * always sent (the last week by default): each query reads only its days' partitions.
 */
export function Logs() {
  const [draft, setDraft] = useState({ ...NO_FILTERS, start_date: isoDay(-6), end_date: isoDay(0) });
  const [applied, setApplied] = useState(draft);
  const [page, setPage] = useState(1);
  const params: SpendLogsParams = { ...applied, page, page_size: PAGE_SIZE };
  const rows = useLoad(() => api.spendLogs(params), [applied, page]);
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setApplied(draft);
    setPage(1);
  };
  const full = rows.data?.length === PAGE_SIZE;

  return (
    <Stack>
      <form onSubmit={apply} aria-label="Log filters">
        <Group align="end">
          {FILTERS.map(([name, label]) => (
            <TextInput
              key={name}
              label={label}
              value={draft[name]}
              onChange={(e) => setDraft({ ...draft, [name]: e.currentTarget.value.trim() })}
            />
          ))}
          <DateRange
            start={draft.start_date}
            end={draft.end_date}
            onStart={(day) => setDraft({ ...draft, start_date: day })}
            onEnd={(day) => setDraft({ ...draft, end_date: day })}
          />
          <Button type="submit">Show</Button>
        </Group>
      </form>
      <ErrorNote error={rows.error} />
      <DataTable label="Spend logs" columns={["Time", "Model", "Key", "User", "Team", "End user", "Tokens", "Spend", "Request id"]}>
        {rows.data?.map((row) => (
          <Table.Tr key={`${row.startTime} ${row.request_id}`} data-testid={`log-row-${row.request_id}`}>
            <Table.Td>{row.startTime.replace("T", " ").slice(0, 19)}</Table.Td>
            <Table.Td>{row.model}</Table.Td>
            <Table.Td title={row.api_key}>{row.api_key.slice(0, 10)}…</Table.Td>
            <Table.Td>{row.user ?? "—"}</Table.Td>
            <Table.Td>{row.team_id ?? "—"}</Table.Td>
            <Table.Td>{row.end_user || "—"}</Table.Td>
            <Table.Td>{row.total_tokens}</Table.Td>
            <Table.Td>{usd(row.spend)}</Table.Td>
            <Table.Td>
              <Text size="xs" ff="monospace">
                {row.request_id}
              </Text>
            </Table.Td>
          </Table.Tr>
        ))}
      </DataTable>
      {rows.data?.length === 0 && <Text c="dimmed">No requests match in this range.</Text>}
      <Group justify="flex-end">
        <Button variant="default" disabled={page === 1} onClick={() => setPage(page - 1)}>
          Newer
        </Button>
        <Text data-testid="log-page">Page {page}</Text>
        <Button variant="default" disabled={!full} onClick={() => setPage(page + 1)}>
          Older
        </Button>
      </Group>
    </Stack>
  );
}
