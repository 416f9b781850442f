// How a pod keeps its router in step with the models kept in the database.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ModelSync } from "./model-sync.js";
import type { LoadedModels } from "./stored-models.js";
import { captureLogs } from "../../test-support/logs.js";

const none: LoadedModels = { deployments: [], unserved: [] };

describe("ModelSync", () => {
  it("a refresh asked for during a reload runs once more after it, not alongside it", async () => {
    let running = 0;
    let most = 0;
    let loads = 0;
    let release!: () => void;
    const sync = new ModelSync(
      async () => {
        running++;
        most = Math.max(most, running);
        loads++;
        if (loads === 1) await new Promise<void>((r) => (release = r));
        running--;
        return none;
      },
      () => undefined,
      captureLogs("info").logger,
    );
    const first = sync.refresh();
    const second = sync.refresh();
    const third = sync.refresh();
    release();
    await Promise.all([first, second, third]);
    assert.equal(most, 1);
    assert.equal(loads, 2, "the two asked for during the first reload share one more");
  });

  it("a failed reload keeps the last models, says so once, and the next one applies", async () => {
    const applied: LoadedModels[] = [];
    let fail = true;
    const logs = captureLogs("info");
    const sync = new ModelSync(
      async () => {
        if (fail) throw new Error("writer away");
        return none;
      },
      (loaded) => applied.push(loaded),
      logs.logger,
    );
    await sync.refresh();
    await sync.refresh();
    assert.equal(applied.length, 0);
    assert.equal(logs.messages().filter((m) => /cannot be read/.test(m)).length, 1);
    fail = false;
    await sync.refresh();
    assert.equal(applied.length, 1);
  });
});
