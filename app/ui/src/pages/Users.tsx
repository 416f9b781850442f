import { useState, type FormEvent } from "react";
import { Button, Group, Modal, NumberInput, Pagination, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { api, type UserView } from "../api.js";
import { ErrorNote, pageControlLabel, usd, DataTable } from "../components.js";
import { Confirm, attempt } from "../confirm.js";
import { useLoad } from "../use-load.js";

const ROLES = ["internal_user", "internal_user_viewer", "proxy_admin", "proxy_admin_viewer"] as const;

export function Users() {
  const [page, setPage] = useState(1);
  const users = useLoad(() => api.users({ page, page_size: 25 }), [page]);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const [userId, setUserId] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<string | null>("internal_user");
  const [budget, setBudget] = useState<number | string>("");
  const [deleting, setDeleting] = useState<UserView>();

  const create = (event: FormEvent) => {
    event.preventDefault();
    void attempt(
      () =>
        api.newUser({
          user_id: userId || undefined,
          user_email: email || undefined,
          user_role: ROLES.find((r) => r === role),
          max_budget: budget === "" ? undefined : Number(budget),
          auto_create_key: false,
        }),
      () => {
        setCreating(false);
        setUserId("");
        setEmail("");
        users.reload();
      },
      setError,
    );
  };

  return (
    <Stack>
      <Group justify="flex-end">
        <Button onClick={() => setCreating(true)}>Create user</Button>
      </Group>
      <ErrorNote error={users.error ?? error} />
      <DataTable label="Users" columns={["User", "Role", "Teams", "Spend", "Budget", "Actions"]}>
        {users.data?.users.map((user) => (
          <Table.Tr key={user.user_id} data-testid={`user-row-${user.user_id}`}>
            <Table.Td>
              <Text fw={500}>{user.user_id}</Text>
              <Text size="xs" c="dimmed">
                {user.user_email ?? ""}
              </Text>
            </Table.Td>
            <Table.Td>{user.user_role}</Table.Td>
            <Table.Td>{user.teams.join(", ") || "—"}</Table.Td>
            <Table.Td>{usd(user.spend)}</Table.Td>
            <Table.Td>{usd(user.max_budget)}</Table.Td>
            <Table.Td>
              <Button size="xs" variant="light" color="red" aria-label={`Delete ${user.user_id}`} onClick={() => setDeleting(user)}>
                Delete
              </Button>
            </Table.Td>
          </Table.Tr>
        ))}
      </DataTable>
      <Group justify="flex-end">
        <Pagination
          total={users.data?.total_pages ?? 1}
          value={page}
          onChange={setPage}
          getControlProps={pageControlLabel}
          aria-label="User pages"
        />
      </Group>

      <Modal opened={creating} onClose={() => setCreating(false)} title="Create a user">
        <form onSubmit={create}>
          <Stack>
            <TextInput label="User id" value={userId} onChange={(e) => setUserId(e.currentTarget.value)} />
            <TextInput label="Email" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
            <Select label="Role" data={[...ROLES]} value={role} onChange={setRole} allowDeselect={false} />
            <NumberInput label="Max budget (USD)" min={0} decimalScale={6} value={budget} onChange={setBudget} />
            <Button type="submit">Create user</Button>
          </Stack>
        </form>
      </Modal>
      <Confirm
        item={deleting}
        name={(user) => user.user_id}
        action="Delete"
        detail="The user and their keys are deleted; their spend history stays."
        onClose={() => setDeleting(undefined)}
        onConfirm={(user) => void attempt(() => api.deleteUsers([user.user_id]), users.reload, setError)}
      />
    </Stack>
  );
}
