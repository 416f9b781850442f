import { useEffect } from "react";
import { Card, Group, Stack, Table, Text, Title } from "@mantine/core";
import { api } from "../api.js";
import { DataTable, ErrorNote, Figure, stateClass } from "../components.js";
import { useLoad } from "../use-load.js";

/** The writer and the readers as this pod sees them, refreshed every 2 s: tandem's read routing made visible. */
export function Database() {
  const database = useLoad(() => api.database(), []);
  useEffect(() => {
    const timer = setInterval(database.reload, 2000);
    return () => clearInterval(timer);
  }, []);
  const view = database.data;
  const fallbacks = Object.entries(view?.read_fallbacks ?? {});

  return (
    <Stack>
      <ErrorNote error={database.error} />
      <div className="cards">
        <Figure label="Writer" value={view?.writer.state ?? "…"} className={stateClass(view?.writer.state ?? "")} testId="writer-state" />
        <Figure
          label="Reader"
          value={view?.reader.state ?? "…"}
          className={stateClass(view?.reader.state ?? "")}
          testId="reader-state"
          note={typeof view?.reader.lag_ms === "number" ? `${view.reader.lag_ms} ms behind` : "lag not measured"}
        />
        <Figure
          label="Spend queue"
          value={view ? `${view.spend_queue.length} waiting` : "…"}
          testId="spend-queue"
          note={view ? `oldest ${(view.spend_queue.oldest_age_ms / 1000).toFixed(1)} s` : ""}
        />
      </div>
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Readers
        </Title>
        <DataTable label="Readers" columns={["Instance", "State", "Lag", "Round trip", "Reached through", "Found by", "Reads"]}>
          {view?.readers.map((reader) => (
            <Table.Tr key={reader.name} data-testid={`reader-row-${reader.name}`}>
              <Table.Td>
                {reader.name}
                {reader.pod ? (
                  <Text size="xs" c="dimmed">
                    {reader.pod}
                  </Text>
                ) : null}
              </Table.Td>
              <Table.Td className={stateClass(reader.state)}>{reader.state}</Table.Td>
              <Table.Td>{reader.lag_ms === null ? "—" : `${reader.lag_ms} ms`}</Table.Td>
              <Table.Td>
                {reader.rtt_ms === null ? "—" : `${reader.rtt_ms} ms`} {reader.local ? "(local)" : "(far)"}
                {reader.zone ? ` · ${reader.zone}` : ""}
              </Table.Td>
              <Table.Td>{reader.address}</Table.Td>
              <Table.Td>{reader.found_by}</Table.Td>
              <Table.Td ta="right">{reader.reads}</Table.Td>
            </Table.Tr>
          ))}
        </DataTable>
      </Card>
      <Card withBorder>
        <Title order={2} size="h4" mb="xs">
          Reads the writer answered instead, by reason
        </Title>
        {fallbacks.length === 0 ? (
          <Text c="dimmed">None since this pod started.</Text>
        ) : (
          <Table>
            <Table.Tbody>
              {fallbacks.map(([reason, count]) => (
                <Table.Tr key={reason}>
                  <Table.Td>{reason}</Table.Td>
                  <Table.Td ta="right">{count}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Card>
      <Group>
        <Text size="sm" c="dimmed">
          Redis: {view?.redis ?? "…"}
        </Text>
      </Group>
    </Stack>
  );
}
