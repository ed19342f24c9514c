import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export type HeadlessApp = { url: string; process: ChildProcess; stop: () => Promise<void> };

/** Starts the built headless entry (out/main/headless.js) and waits for its ready line. */
export async function startHeadlessApp(env: NodeJS.ProcessEnv = {}): Promise<HeadlessApp> {
  const child = spawn(process.execPath, ["out/main/headless.js"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`headless app exited early (code ${code})`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
