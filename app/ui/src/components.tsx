import type { ReactNode } from "react";
import { Alert, Card, Table, Text, TextInput } from "@mantine/core";

/** An API error, shown where the thing it concerns would be: never a blank page. */
export function ErrorNote({ error, title = "Something went wrong" }: { error: string | undefined; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert">
      {error}
    </Alert>
  );
}

export const usd = (value: number | null | undefined) =>
  value === null || value === undefined ? "—" : `$${value < 0.01 && value > 0 ? value.toPrecision(3) : value.toFixed(4)}`;

export const stateClass = (state: string) => `state-${state}`;

/** Names for the pager's arrow buttons (Mantine gives them none). */
export const pageControlLabel = (control: "first" | "previous" | "last" | "next") => ({
  "aria-label": { first: "First page", previous: "Previous page", next: "Next page", last: "Last page" }[control],
});

/** A wide table that scrolls sideways on a narrow screen, reachable by keyboard (a focusable, named region). */
export function Scrollable({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** One figure on a card: what it is, its value (large), and a line under it. */
export function Figure({
  label,
  value,
  testId,
  className,
  note,
}: {
  label: string;
  value: ReactNode;
  testId?: string;
  className?: string;
  note?: string;
}) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} className={className} data-testid={testId}>
        {value}
      </Text>
      {note !== undefined && <Text size="sm">{note}</Text>}
    </Card>
  );
}

/** A striped table under column headings, scrolling sideways on a narrow screen; its rows are the children. */
export function DataTable({ label, columns, children }: { label: string; columns: readonly string[]; children: ReactNode }) {
  return (
    <Scrollable label={label}>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            {columns.map((column) => (
              <Table.Th key={column}>{column}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>{children}</Table.Tbody>
      </Table>
    </Scrollable>
  );
}

/** The UTC day `offsetDays` from today, as a date input takes it (YYYY-MM-DD). */
export const isoDay = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

/** From and To date inputs, each bounded by the other. */
export function DateRange({
  start,
  end,
  onStart,
  onEnd,
}: {
  start: string;
  end: string;
  onStart: (day: string) => void;
  onEnd: (day: string) => void;
}) {
  return (
    <>
      <TextInput type="date" label="From" value={start} max={end} onChange={(e) => onStart(e.currentTarget.value)} />
      <TextInput type="date" label="To" value={end} min={start} onChange={(e) => onEnd(e.currentTarget.value)} />
    </>
  );
}
