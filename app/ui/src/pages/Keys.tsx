import { useState, type FormEvent } from "react";
import {
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Pagination,
  Stack,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { api, type KeyView } from "../api.js";
import { ErrorNote, pageControlLabel, usd, DataTable } from "../components.js";
import { Confirm, attempt } from "../confirm.js";
import { useLoad } from "../use-load.js";

const PAGE_SIZE = 10;

/** A new or regenerated key's secret: shown once, with a copy button; tandem keeps only its hash. */
function SecretOnce({ secret, onClose }: { secret: string | undefined; onClose: () => void }) {
  return (
    <Modal opened={secret !== undefined} onClose={onClose} title="Save this key now">
      <Stack>
        <Text size="sm">This is the only time the key is shown. tandem stores only its hash.</Text>
        <Code block className="secret" data-testid="new-secret">
          {secret}
        </Code>
        <Group justify="flex-end">
          <CopyButton value={secret ?? ""}>
            {({ copied, copy }) => (
              <Button color={copied ? "teal" : "indigo"} onClick={copy}>
                {copied ? "Copied" : "Copy key"}
              </Button>
            )}
          </CopyButton>
          <Button variant="default" onClick={onClose}>
            Done
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function CreateKey({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated: (secret: string) => void }) {
  const models = useLoad(() => api.models(), []);
  const [alias, setAlias] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [budget, setBudget] = useState<number | string>("");
  const [duration, setDuration] = useState("");
  const [rpm, setRpm] = useState<number | string>("");
  const [tpm, setTpm] = useState<number | string>("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const names = [...new Set(models.data?.data.map((m) => m.model_name) ?? [])];
  const number = (value: number | string) => (value === "" ? undefined : Number(value));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await api.generateKey({
        ...(alias ? { key_alias: alias } : {}),
        ...(chosen.length ? { models: chosen } : {}),
        ...(duration ? { duration } : {}),
        max_budget: number(budget),
        rpm_limit: number(rpm),
        tpm_limit: number(tpm),
      });
      onCreated(created.key);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={opened} onClose={onClose} title="Create a key">
      <form onSubmit={submit}>
        <Stack>
          <TextInput label="Alias" value={alias} onChange={(e) => setAlias(e.currentTarget.value)} />
          <MultiSelect label="Models (none: every model)" data={names} value={chosen} onChange={setChosen} searchable clearable />
          <NumberInput label="Max budget (USD)" min={0} decimalScale={6} value={budget} onChange={setBudget} />
          <TextInput
            label="Duration (e.g. 30d, 12h; empty: never expires)"
            value={duration}
            onChange={(e) => setDuration(e.currentTarget.value)}
          />
          <Group grow>
            <NumberInput label="RPM limit" min={1} allowDecimal={false} value={rpm} onChange={setRpm} />
            <NumberInput label="TPM limit" min={1} allowDecimal={false} value={tpm} onChange={setTpm} />
          </Group>
          <ErrorNote error={error} title="The key was not created" />
          <Group justify="flex-end">
            <Button type="submit" loading={busy}>
              Create key
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function Keys() {
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState("");
  const keys = useLoad(() => api.keys({ page, size: PAGE_SIZE, search: search.trim() || undefined }), [page, search]);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string>();
  const [deleting, setDeleting] = useState<KeyView>();
  const [error, setError] = useState<string>();

  const act = (work: () => Promise<unknown>) => attempt(work, keys.reload, setError);
  const name = (key: KeyView) => key.key_alias ?? key.key_name;

  return (
    <Stack>
      <Group justify="space-between">
        <TextInput
          placeholder="Search by alias or user"
          aria-label="Search keys"
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            setPage(1);
          }}
        />
        <Button onClick={() => setCreating(true)}>Create key</Button>
      </Group>
      <ErrorNote error={keys.error ?? error} />
      <DataTable label="Keys" columns={["Key", "User", "Team", "Spend", "Budget", "State", "Actions"]}>
        {keys.data?.keys.map((key) => (
          <Table.Tr key={key.token} data-testid={`key-row-${key.key_alias ?? key.token}`}>
            <Table.Td>
              <Text fw={500}>{key.key_alias ?? "—"}</Text>
              <Text size="xs" c="dimmed">
                {key.key_name}
              </Text>
            </Table.Td>
            <Table.Td>{key.user_id ?? "—"}</Table.Td>
            <Table.Td>{key.team_id ?? "—"}</Table.Td>
            <Table.Td>{usd(key.spend)}</Table.Td>
            <Table.Td>{usd(key.max_budget)}</Table.Td>
            <Table.Td>{key.blocked ? <Badge color="red.9">blocked</Badge> : <Badge color="teal.9">active</Badge>}</Table.Td>
            <Table.Td>
              <Group gap="xs" wrap="nowrap">
                <Button
                  size="xs"
                  variant="light"
                  onClick={() => act(() => api.blockKey(key.token, !key.blocked))}
                  aria-label={`${key.blocked ? "Unblock" : "Block"} ${name(key)}`}
                >
                  {key.blocked ? "Unblock" : "Block"}
                </Button>
                <Button
                  size="xs"
                  variant="light"
                  aria-label={`Regenerate ${name(key)}`}
                  onClick={() => act(async () => setSecret((await api.regenerateKey(key.token)).key))}
                >
                  Regenerate
                </Button>
                <Button size="xs" variant="light" color="red" aria-label={`Delete ${name(key)}`} onClick={() => setDeleting(key)}>
                  Delete
                </Button>
              </Group>
            </Table.Td>
          </Table.Tr>
        ))}
      </DataTable>
      {keys.data && keys.data.keys.length === 0 && <Text c="dimmed">No keys{search ? ` matching “${search}”` : ""}.</Text>}
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {keys.data ? `${keys.data.total_count} keys` : ""}
        </Text>
        <Pagination
          total={keys.data?.total_pages ?? 1}
          value={page}
          onChange={setPage}
          getControlProps={pageControlLabel}
          aria-label="Key pages"
        />
      </Group>

      <CreateKey
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(created) => {
          setCreating(false);
          setSecret(created);
          keys.reload();
        }}
      />
      <SecretOnce secret={secret} onClose={() => setSecret(undefined)} />
      <Confirm
        item={deleting}
        name={name}
        action="Delete key"
        detail="The key stops working at once. Its spend history stays."
        onClose={() => setDeleting(undefined)}
        onConfirm={(key) => void act(() => api.deleteKeys([key.token]))}
      />
    </Stack>
  );
}
