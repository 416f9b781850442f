import { useState, type FormEvent } from "react";
import { Button, Group, Modal, NumberInput, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { api, type TeamView } from "../api.js";
import { ErrorNote, usd, DataTable } from "../components.js";
import { Confirm, attempt } from "../confirm.js";
import { useLoad } from "../use-load.js";

export function Teams() {
  const teams = useLoad(() => api.teams(), []);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const [alias, setAlias] = useState("");
  const [budget, setBudget] = useState<number | string>("");
  const [adding, setAdding] = useState<TeamView>();
  const [member, setMember] = useState("");
  const [role, setRole] = useState<string | null>("user");
  const [deleting, setDeleting] = useState<TeamView>();
  const label = (team: TeamView) => team.team_alias ?? team.team_id;

  const create = (event: FormEvent) => {
    event.preventDefault();
    void attempt(
      () => api.newTeam({ team_alias: alias || undefined, max_budget: budget === "" ? undefined : Number(budget) }),
      () => {
        setCreating(false);
        setAlias("");
        setBudget("");
        teams.reload();
      },
      setError,
    );
  };
  const addMember = (event: FormEvent) => {
    event.preventDefault();
    const team = adding!;
    void attempt(
      () => api.addMember({ team_id: team.team_id, member: { user_id: member, role: role === "admin" ? "admin" : "user" } }),
      () => {
        setAdding(undefined);
        setMember("");
        teams.reload();
      },
      setError,
    );
  };

  return (
    <Stack>
      <Group justify="flex-end">
        <Button onClick={() => setCreating(true)}>Create team</Button>
      </Group>
      <ErrorNote error={teams.error ?? error} />
      <DataTable label="Teams" columns={["Team", "Members", "Spend", "Budget", "Actions"]}>
        {teams.data?.map((team) => (
          <Table.Tr key={team.team_id} data-testid={`team-row-${label(team)}`}>
            <Table.Td>
              <Text fw={500}>{label(team)}</Text>
              <Text size="xs" c="dimmed">
                {team.team_id}
              </Text>
            </Table.Td>
            <Table.Td>{team.members_with_roles.map((m) => `${m.user_id ?? m.user_email} (${m.role})`).join(", ") || "—"}</Table.Td>
            <Table.Td>{usd(team.spend)}</Table.Td>
            <Table.Td>{usd(team.max_budget)}</Table.Td>
            <Table.Td>
              <Group gap="xs" wrap="nowrap">
                <Button size="xs" variant="light" aria-label={`Add member to ${label(team)}`} onClick={() => setAdding(team)}>
                  Add member
                </Button>
                <Button size="xs" variant="light" color="red" aria-label={`Delete ${label(team)}`} onClick={() => setDeleting(team)}>
                  Delete
                </Button>
              </Group>
            </Table.Td>
          </Table.Tr>
        ))}
      </DataTable>
      {teams.data?.length === 0 && <Text c="dimmed">No teams yet.</Text>}

      <Modal opened={creating} onClose={() => setCreating(false)} title="Create a team">
        <form onSubmit={create}>
          <Stack>
            <TextInput label="Team alias" value={alias} onChange={(e) => setAlias(e.currentTarget.value)} />
            <NumberInput label="Max budget (USD)" min={0} decimalScale={6} value={budget} onChange={setBudget} />
            <Button type="submit">Create team</Button>
          </Stack>
        </form>
      </Modal>
      <Modal opened={adding !== undefined} onClose={() => setAdding(undefined)} title={`Add a member to ${adding ? label(adding) : ""}`}>
        <form onSubmit={addMember}>
          <Stack>
            <TextInput label="User id" required value={member} onChange={(e) => setMember(e.currentTarget.value)} />
            <Select label="Role" data={["user", "admin"]} value={role} onChange={setRole} allowDeselect={false} />
            <Button type="submit">Add member</Button>
          </Stack>
        </form>
      </Modal>
      <Confirm
        item={deleting}
        name={label}
        action="Delete"
        detail="The team and its keys are deleted; their spend history stays."
        onClose={() => setDeleting(undefined)}
        onConfirm={(team) => void attempt(() => api.deleteTeams([team.team_id]), teams.reload, setError)}
      />
    </Stack>
  );
}
