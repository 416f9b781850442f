import { Button, Group, Modal, Stack, Text } from "@mantine/core";

/** "Are you sure?" before something that cannot be undone. */
export function Confirm({
  what,
  detail,
  action,
  onConfirm,
  onCancel,
}: {
  what: string | undefined;
  detail: string;
  action: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal opened={what !== undefined} onClose={onCancel} title={`${action} ${what ?? ""}?`}>
      <Stack>
        <Text>{detail}</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button color="red" onClick={onConfirm}>
            {action}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Runs `work`, then `done`; a failure goes to `fail` with the server's message. */
export async function attempt(work: () => Promise<unknown>, done: () => void, fail: (message: string | undefined) => void) {
  fail(undefined);
  try {
    await work();
    done();
  } catch (failure) {
    fail(failure instanceof Error ? failure.message : String(failure));
  }
}
