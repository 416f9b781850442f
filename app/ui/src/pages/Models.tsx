import { useState, type FormEvent } from "react";
import { Badge, Button, Group, Modal, PasswordInput, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { api, type ModelInfo } from "../api.js";
import { ErrorNote, DataTable } from "../components.js";
import { Confirm, attempt } from "../confirm.js";
import { useLoad } from "../use-load.js";

const perMillion = (perToken: number) => (perToken ? `$${(perToken * 1_000_000).toFixed(2)}` : "—");
const MODES = ["chat", "completion", "embedding", "image_generation", "moderation"];

/** A deployment's last health call from this page: what the upstream said. */
type Checked = { healthy: true } | { healthy: false; error: string };

/**
 * Each deployment of each model group: what it calls, its price per million tokens, whether it is
 * cooling down; a health call on demand. With store_model_in_db, models are added and deleted here.
 */
export function Models() {
  const models = useLoad(() => api.models(), []);
  const session = useLoad(() => api.session(), []);
  const [error, setError] = useState<string>();
  const [checked, setChecked] = useState<Record<string, Checked | "checking">>({});
  const [adding, setAdding] = useState(false);
  const [form, setForm] = useState({ name: "", model: "", apiBase: "", apiKey: "", mode: "chat" });
  const [deleting, setDeleting] = useState<ModelInfo>();
  const editable = session.data?.store_model_in_db ?? false;
  const field = (name: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [name]: value }));

  const test = (model: ModelInfo) => {
    const id = model.model_info.id;
    setChecked((c) => ({ ...c, [id]: "checking" }));
    api.modelHealth(id).then(
      (health) => {
        const failed = health.unhealthy_endpoints.find((e) => e.model_id === id);
        setChecked((c) => ({ ...c, [id]: failed ? { healthy: false, error: failed.error } : { healthy: true } }));
      },
      (failure: Error) => setChecked((c) => ({ ...c, [id]: { healthy: false, error: failure.message } })),
    );
  };
  const add = (event: FormEvent) => {
    event.preventDefault();
    void attempt(
      () =>
        api.newModel({
          model_name: form.name,
          litellm_params: {
            model: form.model,
            ...(form.apiBase ? { api_base: form.apiBase } : {}),
            ...(form.apiKey ? { api_key: form.apiKey } : {}),
          },
          model_info: { mode: form.mode },
        }),
      () => {
        setAdding(false);
        setForm({ name: "", model: "", apiBase: "", apiKey: "", mode: "chat" });
        models.reload();
      },
      setError,
    );
  };

  return (
    <Stack>
      {editable && (
        <Group justify="flex-end">
          <Button onClick={() => setAdding(true)}>Add model</Button>
        </Group>
      )}
      <ErrorNote error={models.error ?? error} />
      <DataTable
        label="Model deployments"
        columns={["Model group", "Deployment", "Mode", "Input / 1M tokens", "Output / 1M tokens", "Price from", "State", "Actions"]}
      >
        {models.data?.data.map((model) => {
          const check = checked[model.model_info.id];
          return (
            <Table.Tr key={model.model_info.id} data-testid={`model-row-${model.model_info.id}`}>
              <Table.Td>
                <Text size="sm">{model.model_name}</Text>
                <Text size="xs" c="dimmed">
                  {model.model_info.db_model ? "kept in the database" : "config file"}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{model.litellm_params.model}</Text>
                <Text size="xs" c="dimmed">
                  {model.litellm_params.api_base ?? ""}
                </Text>
              </Table.Td>
              <Table.Td>{model.model_info.mode}</Table.Td>
              <Table.Td>{perMillion(model.model_info.input_cost_per_token)}</Table.Td>
              <Table.Td>{perMillion(model.model_info.output_cost_per_token)}</Table.Td>
              <Table.Td>{model.model_info.price_source}</Table.Td>
              <Table.Td>
                <Stack gap={4}>
                  {model.model_info.cooling_down ? <Badge color="red.9">cooling down</Badge> : <Badge color="teal.9">available</Badge>}
                  {check === "checking" && <Text size="xs">checking…</Text>}
                  {check && check !== "checking" && (
                    <Text size="xs" data-testid={`model-health-${model.model_info.id}`}>
                      {check.healthy ? "healthy" : `unhealthy: ${check.error}`}
                    </Text>
                  )}
                </Stack>
              </Table.Td>
              <Table.Td>
                <Group gap="xs" wrap="nowrap">
                  <Button size="xs" variant="light" aria-label={`Test ${model.model_info.id}`} onClick={() => test(model)}>
                    Test
                  </Button>
                  {editable && model.model_info.db_model && (
                    <Button
                      size="xs"
                      variant="light"
                      color="red"
                      aria-label={`Delete ${model.model_info.id}`}
                      onClick={() => setDeleting(model)}
                    >
                      Delete
                    </Button>
                  )}
                </Group>
              </Table.Td>
            </Table.Tr>
          );
        })}
      </DataTable>

      <Modal opened={adding} onClose={() => setAdding(false)} title="Add a model">
        <form onSubmit={add}>
          <Stack>
            <TextInput
              label="Model name"
              description="What clients ask for"
              required
              value={form.name}
              onChange={(e) => field("name")(e.currentTarget.value)}
            />
            <TextInput
              label="Provider and model"
              description="LiteLLM's form: openai/gpt-4o-mini, azure/my-deployment, anthropic/claude-…"
              required
              value={form.model}
              onChange={(e) => field("model")(e.currentTarget.value)}
            />
            <TextInput label="API base" value={form.apiBase} onChange={(e) => field("apiBase")(e.currentTarget.value)} />
            <PasswordInput
              label="API key"
              description="Sealed in the database; never shown again"
              value={form.apiKey}
              onChange={(e) => field("apiKey")(e.currentTarget.value)}
            />
            <Select label="Mode" data={MODES} value={form.mode} onChange={(v) => field("mode")(v ?? "chat")} allowDeselect={false} />
            <Button type="submit">Add model</Button>
          </Stack>
        </form>
      </Modal>
      <Confirm
        item={deleting}
        name={(model) => model.model_info.id}
        action="Delete"
        detail="The model stops serving on every pod; its spend history stays."
        onClose={() => setDeleting(undefined)}
        onConfirm={(model) => void attempt(() => api.deleteModel(model.model_info.id), models.reload, setError)}
      />
    </Stack>
  );
}
