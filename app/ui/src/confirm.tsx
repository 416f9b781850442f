import { Button, Group, Modal, Stack, Text } from "@mantine/core";

/**
 * "Are you sure?" before something that cannot be undone, about `item` (open while there is one).
 * Confirming closes it first, then hands `onConfirm` the item it was about.
 */
export function Confirm<T>({
  item,
  name,
  detail,
  action,
  onConfirm,
  onClose,
}: {
  item: T | undefined;
  name: (item: T) => string;
  detail: string;
  action: string;
  onConfirm: (item: T) => void;
  onClose: () => void;
}) {
  return (
    <Modal opened={item !== undefined} onClose={onClose} title={`${action} ${item === undefined ? "" : name(item)}?`}>
      <Stack>
        <Text>{detail}</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            color="red"
            onClick={() => {
              const confirmed = item!;
              onClose();
              onConfirm(confirmed);
            }}
          >
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
