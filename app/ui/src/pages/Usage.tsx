import { useState } from "react";
import { Card, Group, Stack, Table, Text, Title } from "@mantine/core";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api } from "../api.js";
import { DateRange, ErrorNote, Figure, isoDay, usd } from "../components.js";
import { useLoad } from "../use-load.js";

interface Day {
  date: string;
  spend: number;
  requests: number;
}

/** One bar per day of one figure. */
function DailyBars({
  title,
  days,
  field,
  color,
  format,
}: {
  title: string;
  days: Day[];
  field: "spend" | "requests";
  color: string;
  format: (value: number) => string;
}) {
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        {title}
      </Title>
      <div className="chart" role="img" aria-label={title.replace(/ \(.*\)$/, "")}>
        <ResponsiveContainer>
          <BarChart data={days}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="date" />
            <YAxis width={90} allowDecimals={field === "spend"} tickFormatter={format} />
            <Tooltip />
            <Bar dataKey={field} fill={color} name={field} maxBarSize={48} />
          </BarChart>
        </ResponsiveContainer>
      </div>
    </Card>
  );
}

function Top({ title, rows }: { title: string; rows: Array<{ name: string; spend: number }> | undefined }) {
  return (
    <Card withBorder>
      <Title order={2} size="h4" mb="xs">
        {title}
      </Title>
      <Table>
        <Table.Tbody>
          {rows?.map((row) => (
            <Table.Tr key={row.name}>
              <Table.Td>{row.name}</Table.Td>
              <Table.Td ta="right">{usd(row.spend)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {rows?.length === 0 && <Text c="dimmed">Nothing spent in this range.</Text>}
    </Card>
  );
}

/** Spend and requests per day, and who and what spent most, over a date range: from the daily aggregates (the replica). */
export function Usage() {
  const [start, setStart] = useState(isoDay(-29));
  const [end, setEnd] = useState(isoDay(0));
  const range = { start_date: start, end_date: end };
  const activity = useLoad(() => api.dailyActivity({ ...range, page_size: 400 }), [start, end]);
  const keys = useLoad(() => api.topKeys({ ...range, limit: 5 }), [start, end]);
  const models = useLoad(() => api.topModels({ ...range, limit: 5 }), [start, end]);
  const teams = useLoad(() => api.topTeams({ ...range, limit: 5 }), [start, end]);
  const days =
    activity.data?.results.map((day) => ({ date: day.date, spend: day.metrics.spend, requests: day.metrics.api_requests })) ?? [];
  const total = activity.data?.metadata;

  return (
    <Stack>
      <Group align="end">
        <DateRange start={start} end={end} onStart={setStart} onEnd={setEnd} />
      </Group>
      <ErrorNote error={activity.error ?? keys.error ?? models.error ?? teams.error} />
      <div className="cards">
        <Figure label="Total spend" value={total ? `$${total.total_spend.toFixed(6)}` : "…"} testId="usage-total-spend" />
        <Figure label="Requests" value={total?.total_api_requests ?? "…"} testId="usage-total-requests" />
        <Figure label="Tokens" value={total?.total_tokens ?? "…"} />
      </div>
      <DailyBars
        title="Spend per day (USD)"
        days={days}
        field="spend"
        color="#4c6ef5"
        format={(value) => `$${Number(value.toPrecision(3))}`}
      />
      <DailyBars title="Requests per day" days={days} field="requests" color="#12b886" format={(value) => String(value)} />
      <div className="cards">
        <Top
          title="Top keys"
          rows={keys.data?.map((k) => ({ name: k.key_alias ?? k.key_name ?? k.api_key.slice(0, 10), spend: k.total_spend }))}
        />
        <Top
          title="Top teams"
          rows={teams.data?.total_spend_per_team.map((t) => ({ name: t.team_alias ?? t.team_id ?? "No team", spend: t.total_spend }))}
        />
        <Top title="Top models" rows={models.data?.map((m) => ({ name: m.model, spend: m.total_spend }))} />
      </div>
    </Stack>
  );
}
