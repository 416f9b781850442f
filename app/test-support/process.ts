// `tandem serve` as a real process, as the container runs it.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { appRoot } from "../paths.js";

export interface TandemProcess {
  child: ChildProcess;
  lines: string[];
  port: number;
  exit: Promise<number | null>;
}

/** Starts `tandem serve` with exactly `env` (plus PATH); resolves once it listens. */
export function serve(env: Record<string, string>): Promise<TandemProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(appRoot, "app", "cli.ts"), "serve"], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const port = /tandem listening on :(\d+)/.exec(line)?.[1];
      if (port) resolve({ child, lines, port: Number(port), exit });
    });
    createInterface({ input: child.stderr! }).on("line", (line) => lines.push(line));
    void exit.then((code) => reject(new Error(`tandem exited ${code} before listening:\n${lines.join("\n")}`)));
  });
}
