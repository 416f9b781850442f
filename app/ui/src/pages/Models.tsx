import { Badge, Stack, Table, Text } from "@mantine/core";
import { api } from "../api.js";
import { ErrorNote, DataTable } from "../components.js";
import { useLoad } from "../use-load.js";

const perMillion = (perToken: number) => (perToken ? `$${(perToken * 1_000_000).toFixed(2)}` : "—");

/** Each deployment of each model group: what it calls, its price per million tokens, whether it is cooling down. */
export function Models() {
  const models = useLoad(() => api.models(), []);
  return (
    <Stack>
      <ErrorNote error={models.error} />
      <DataTable
        label="Model deployments"
        columns={["Model group", "Deployment", "Mode", "Input / 1M tokens", "Output / 1M tokens", "Price from", "State"]}
      >
        {models.data?.data.map((model) => (
          <Table.Tr key={model.model_info.id}>
            <Table.Td>{model.model_name}</Table.Td>
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
              {model.model_info.cooling_down ? <Badge color="red.9">cooling down</Badge> : <Badge color="teal.9">available</Badge>}
            </Table.Td>
          </Table.Tr>
        ))}
      </DataTable>
    </Stack>
  );
}
