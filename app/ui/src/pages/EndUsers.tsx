import { useState, type FormEvent } from "react";
import { Badge, Button, Group, Modal, NumberInput, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { api, type EndUserView } from "../api.js";
import { ErrorNote, usd, DataTable } from "../components.js";
import { Confirm, attempt } from "../confirm.js";
import { useLoad } from "../use-load.js";

/** End users (LiteLLM's customers: the `user` a request names), with their budgets; block, unblock, delete. */
export function EndUsers() {
  const endUsers = useLoad(() => api.endUsers(), []);
  const budgets = useLoad(() => api.budgets(), []);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const [id, setId] = useState("");
  const [max, setMax] = useState<number | string>("");
  const [shared, setShared] = useState<string | null>(null);
  const [region, setRegion] = useState("");
  const [deleting, setDeleting] = useState<EndUserView>();

  const create = (event: FormEvent) => {
    event.preventDefault();
    void attempt(
      () =>
        api.newEndUser({
          user_id: id,
          ...(shared ? { budget_id: shared } : {}),
          ...(max !== "" ? { max_budget: Number(max) } : {}),
          ...(region ? { allowed_model_region: region } : {}),
        }),
      () => {
        setCreating(false);
        setId("");
        setMax("");
        setShared(null);
        setRegion("");
        endUsers.reload();
      },
      setError,
    );
  };
  const block = (user: EndUserView) => void attempt(() => api.blockEndUsers([user.user_id], !user.blocked), endUsers.reload, setError);

  return (
    <Stack>
      <Group justify="flex-end">
        <Button onClick={() => setCreating(true)}>Create end user</Button>
      </Group>
      <ErrorNote error={endUsers.error ?? error} />
      <DataTable label="End users" columns={["End user", "Spend", "Budget", "Region", "State", "Actions"]}>
        {endUsers.data?.map((user) => (
          <Table.Tr key={user.user_id} data-testid={`end-user-row-${user.user_id}`}>
            <Table.Td>
              <Text size="sm">{user.user_id}</Text>
              {user.alias && (
                <Text size="xs" c="dimmed">
                  {user.alias}
                </Text>
              )}
            </Table.Td>
            <Table.Td>{usd(user.spend)}</Table.Td>
            <Table.Td>
              <Text size="sm">{usd(user.litellm_budget_table?.max_budget)}</Text>
              {user.budget_id && (
                <Text size="xs" c="dimmed">
                  {user.budget_id}
                </Text>
              )}
            </Table.Td>
            <Table.Td>{user.allowed_model_region ?? "any"}</Table.Td>
            <Table.Td>{user.blocked ? <Badge color="red.9">blocked</Badge> : <Badge color="teal.9">active</Badge>}</Table.Td>
            <Table.Td>
              <Group gap="xs" wrap="nowrap">
                <Button
                  size="xs"
                  variant="light"
                  aria-label={`${user.blocked ? "Unblock" : "Block"} ${user.user_id}`}
                  onClick={() => block(user)}
                >
                  {user.blocked ? "Unblock" : "Block"}
                </Button>
                <Button size="xs" variant="light" color="red" aria-label={`Delete ${user.user_id}`} onClick={() => setDeleting(user)}>
                  Delete
                </Button>
              </Group>
            </Table.Td>
          </Table.Tr>
        ))}
      </DataTable>
      {endUsers.data?.length === 0 && <Text c="dimmed">No end users yet.</Text>}

      <Modal opened={creating} onClose={() => setCreating(false)} title="Create an end user">
        <form onSubmit={create}>
          <Stack>
            <TextInput
              label="End user id"
              description="The `user` its requests name"
              required
              value={id}
              onChange={(e) => setId(e.currentTarget.value)}
            />
            <NumberInput
              label="Max budget (USD)"
              description="A budget of its own"
              min={0}
              decimalScale={6}
              value={max}
              onChange={setMax}
            />
            <Select
              label="Shared budget"
              description="Or one shared by id"
              data={(budgets.data ?? []).map((b) => b.budget_id)}
              value={shared}
              onChange={setShared}
              clearable
            />
            <TextInput
              label="Allowed region"
              description="Served only by deployments in it"
              value={region}
              onChange={(e) => setRegion(e.currentTarget.value)}
            />
            <Button type="submit">Create end user</Button>
          </Stack>
        </form>
      </Modal>
      <Confirm
        item={deleting}
        name={(user) => user.user_id}
        action="Delete"
        detail="The end user is deleted; its spend history stays."
        onClose={() => setDeleting(undefined)}
        onConfirm={(user) => void attempt(() => api.deleteEndUsers([user.user_id]), endUsers.reload, setError)}
      />
    </Stack>
  );
}
