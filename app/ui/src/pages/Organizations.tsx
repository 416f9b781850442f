import { useState, type FormEvent } from "react";
import { Button, Group, Modal, NumberInput, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { api, type OrganizationView } from "../api.js";
import { ErrorNote, usd, DataTable } from "../components.js";
import { Confirm, attempt } from "../confirm.js";
import { useLoad } from "../use-load.js";

const ROLES = ["org_admin", "internal_user", "internal_user_viewer"] as const;

/** Organizations with their budget, models, teams and members; add a member, delete. */
export function Organizations() {
  const orgs = useLoad(() => api.organizations(), []);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const [alias, setAlias] = useState("");
  const [max, setMax] = useState<number | string>("");
  const [models, setModels] = useState("");
  const [adding, setAdding] = useState<OrganizationView>();
  const [member, setMember] = useState("");
  const [role, setRole] = useState<(typeof ROLES)[number]>("internal_user");
  const [deleting, setDeleting] = useState<OrganizationView>();

  const create = (event: FormEvent) => {
    event.preventDefault();
    void attempt(
      () =>
        api.newOrganization({
          organization_alias: alias,
          ...(max !== "" ? { max_budget: Number(max) } : {}),
          models: models
            .split(",")
            .map((m) => m.trim())
            .filter(Boolean),
        }),
      () => {
        setCreating(false);
        setAlias("");
        setMax("");
        setModels("");
        orgs.reload();
      },
      setError,
    );
  };
  const addMember = (event: FormEvent) => {
    event.preventDefault();
    const org = adding!;
    void attempt(
      () => api.addOrganizationMember({ organization_id: org.organization_id, member: { user_id: member, role } }),
      () => {
        setAdding(undefined);
        setMember("");
        orgs.reload();
      },
      setError,
    );
  };

  return (
    <Stack>
      <Group justify="flex-end">
        <Button onClick={() => setCreating(true)}>Create organization</Button>
      </Group>
      <ErrorNote error={orgs.error ?? error} />
      <DataTable label="Organizations" columns={["Organization", "Spend", "Budget", "Models", "Teams", "Members", "Actions"]}>
        {orgs.data?.map((org) => (
          <Table.Tr key={org.organization_id} data-testid={`organization-row-${org.organization_alias}`}>
            <Table.Td>
              <Text size="sm" fw={500}>
                {org.organization_alias}
              </Text>
              <Text size="xs" c="dimmed">
                {org.organization_id}
              </Text>
            </Table.Td>
            <Table.Td>{usd(org.spend)}</Table.Td>
            <Table.Td>{usd(org.litellm_budget_table?.max_budget)}</Table.Td>
            <Table.Td>{org.models.join(", ") || "all"}</Table.Td>
            <Table.Td>{org.teams.map((t) => t.team_alias ?? t.team_id).join(", ") || "—"}</Table.Td>
            <Table.Td>{org.members.map((m) => `${m.user_email ?? m.user_id} (${m.user_role})`).join(", ") || "—"}</Table.Td>
            <Table.Td>
              <Group gap="xs" wrap="nowrap">
                <Button size="xs" variant="light" aria-label={`Add member to ${org.organization_alias}`} onClick={() => setAdding(org)}>
                  Add member
                </Button>
                <Button
                  size="xs"
                  variant="light"
                  color="red"
                  aria-label={`Delete ${org.organization_alias}`}
                  onClick={() => setDeleting(org)}
                >
                  Delete
                </Button>
              </Group>
            </Table.Td>
          </Table.Tr>
        ))}
      </DataTable>
      {orgs.data?.length === 0 && <Text c="dimmed">No organizations yet.</Text>}

      <Modal opened={creating} onClose={() => setCreating(false)} title="Create an organization">
        <form onSubmit={create}>
          <Stack>
            <TextInput label="Organization alias" required value={alias} onChange={(e) => setAlias(e.currentTarget.value)} />
            <NumberInput label="Max budget (USD)" min={0} decimalScale={6} value={max} onChange={setMax} />
            <TextInput
              label="Models"
              description="Comma-separated; its teams may use only these (empty: all)"
              value={models}
              onChange={(e) => setModels(e.currentTarget.value)}
            />
            <Button type="submit">Create organization</Button>
          </Stack>
        </form>
      </Modal>
      <Modal
        opened={adding !== undefined}
        onClose={() => setAdding(undefined)}
        title={`Add a member to ${adding?.organization_alias ?? ""}`}
      >
        <form onSubmit={addMember}>
          <Stack>
            <TextInput label="User id" required value={member} onChange={(e) => setMember(e.currentTarget.value)} />
            <Select
              label="Role"
              data={[...ROLES]}
              value={role}
              onChange={(v) => setRole((v as (typeof ROLES)[number] | null) ?? "internal_user")}
              allowDeselect={false}
            />
            <Button type="submit">Add member</Button>
          </Stack>
        </form>
      </Modal>
      <Confirm
        item={deleting}
        name={(org) => org.organization_alias}
        action="Delete"
        detail="The organization is deleted with its teams and their keys; its members keep their users."
        onClose={() => setDeleting(undefined)}
        onConfirm={(org) => void attempt(() => api.deleteOrganizations([org.organization_id]), orgs.reload, setError)}
      />
    </Stack>
  );
}
