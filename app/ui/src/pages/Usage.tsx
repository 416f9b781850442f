import { useState } from "react";
import { Card, Group, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api } from "../api.js";
import { ErrorNote, usd } from "../components.js";
import { useLoad } from "../use-load.js";

const isoDay = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

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
        <TextInput type="date" label="From" value={start} max={end} onChange={(e) => setStart(e.currentTarget.value)} />
        <TextInput type="date" label="To" value={end} min={start} onChange={(e) => setEnd(e.currentTarget.value)} />
      </Group>
      <ErrorNote error={activity.error ?? keys.error ?? models.error ?? teams.error} />
      <div className="cards">
        <Card withBorder>
          <Text size="sm" c="dimmed">
            Total spend
          </Text>
          <Text size="xl" fw={700} data-testid="usage-total-spend">
            {total ? `$${total.total_spend.toFixed(6)}` : "…"}
          </Text>
        </Card>
        <Card withBorder>
          <Text size="sm" c="dimmed">
            Requests
          </Text>
          <Text size="xl" fw={700} data-testid="usage-total-requests">
            {total?.total_api_requests ?? "…"}
          </Text>
        </Card>
        <Card withBorder>
          <Text size="sm" c="dimmed">
            Tokens
          </Text>
          <Text size="xl" fw={700}>
            {total?.total_tokens ?? "…"}
          </Text>
        </Card>
      </div>
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Spend per day (USD)
        </Title>
        <div className="chart" role="img" aria-label="Spend per day">
          <ResponsiveContainer>
            <BarChart data={days}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="date" />
              <YAxis width={90} tickFormatter={(value: number) => `$${Number(value.toPrecision(3))}`} />
              <Tooltip />
              <Bar dataKey="spend" fill="#4c6ef5" name="spend" maxBarSize={48} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </Card>
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Requests per day
        </Title>
        <div className="chart" role="img" aria-label="Requests per day">
          <ResponsiveContainer>
            <BarChart data={days}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="date" />
              <YAxis width={90} allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="requests" fill="#12b886" name="requests" maxBarSize={48} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </Card>
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
