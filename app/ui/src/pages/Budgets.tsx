import { useState, type FormEvent } from "react";
import { Button, Group, Modal, NumberInput, Stack, Table, Text, TextInput } from "@mantine/core";
import { api, type BudgetView } from "../api.js";
import { ErrorNote, usd, DataTable } from "../components.js";
import { Confirm, attempt } from "../confirm.js";
import { useLoad } from "../use-load.js";

const optional = (value: number | string) => (value === "" ? undefined : Number(value));
const limit = (value: number | null) => (value === null ? "—" : value.toLocaleString());

/** Budgets as objects (LiteLLM's BudgetTable): limits that end users and organizations share by id. */
export function Budgets() {
  const budgets = useLoad(() => api.budgets(), []);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const [id, setId] = useState("");
  const [max, setMax] = useState<number | string>("");
  const [rpm, setRpm] = useState<number | string>("");
  const [tpm, setTpm] = useState<number | string>("");
  const [duration, setDuration] = useState("");
  const [deleting, setDeleting] = useState<BudgetView>();

  const create = (event: FormEvent) => {
    event.preventDefault();
    void attempt(
      () =>
        api.newBudget({
          budget_id: id || undefined,
          max_budget: optional(max),
          rpm_limit: optional(rpm),
          tpm_limit: optional(tpm),
          budget_duration: duration || undefined,
        }),
      () => {
        setCreating(false);
        setId("");
        setMax("");
        setRpm("");
        setTpm("");
        setDuration("");
        budgets.reload();
      },
      setError,
    );
  };

  return (
    <Stack>
      <Group justify="flex-end">
        <Button onClick={() => setCreating(true)}>Create budget</Button>
      </Group>
      <ErrorNote error={budgets.error ?? error} />
      <DataTable label="Budgets" columns={["Budget", "Max budget", "RPM", "TPM", "Period", "Resets", "Actions"]}>
        {budgets.data?.map((budget) => (
          <Table.Tr key={budget.budget_id} data-testid={`budget-row-${budget.budget_id}`}>
            <Table.Td>{budget.budget_id}</Table.Td>
            <Table.Td>{usd(budget.max_budget)}</Table.Td>
            <Table.Td>{limit(budget.rpm_limit)}</Table.Td>
            <Table.Td>{limit(budget.tpm_limit)}</Table.Td>
            <Table.Td>{budget.budget_duration ?? "—"}</Table.Td>
            <Table.Td>{budget.budget_reset_at ? new Date(budget.budget_reset_at).toLocaleString() : "—"}</Table.Td>
            <Table.Td>
              <Button size="xs" variant="light" color="red" aria-label={`Delete ${budget.budget_id}`} onClick={() => setDeleting(budget)}>
                Delete
              </Button>
            </Table.Td>
          </Table.Tr>
        ))}
      </DataTable>
      {budgets.data?.length === 0 && <Text c="dimmed">No budgets yet.</Text>}

      <Modal opened={creating} onClose={() => setCreating(false)} title="Create a budget">
        <form onSubmit={create}>
          <Stack>
            <TextInput label="Budget id" description="Left empty, one is made" value={id} onChange={(e) => setId(e.currentTarget.value)} />
            <NumberInput label="Max budget (USD)" min={0} decimalScale={6} value={max} onChange={setMax} />
            <NumberInput label="RPM limit" min={1} allowDecimal={false} value={rpm} onChange={setRpm} />
            <NumberInput label="TPM limit" min={1} allowDecimal={false} value={tpm} onChange={setTpm} />
            <TextInput label="Period" description="30d, 7d, 1h…" value={duration} onChange={(e) => setDuration(e.currentTarget.value)} />
            <Button type="submit">Create budget</Button>
          </Stack>
        </form>
      </Modal>
      <Confirm
        item={deleting}
        name={(budget) => budget.budget_id}
        action="Delete"
        detail="End users and organizations on it are left without a budget."
        onClose={() => setDeleting(undefined)}
        onConfirm={(budget) => void attempt(() => api.deleteBudget(budget.budget_id), budgets.reload, setError)}
      />
    </Stack>
  );
}
