import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** A local fake of the Hugging Face hub (inference/tests/fake_hub_server.py) and the catalog folder it wrote. */
export type FakeHub = { endpoint: string; modelId: string; process: ChildProcess; stop(): void };

/**
 * Starts the fake hub with a catalog of its own in `catalogDir`: the repository's models plus one it serves,
 * a detector of `sizeBytes` at `rateBytesPerS` by default, or with `planner` a tiny random-weight GGUF that
 * the embedded profile then has as its (missing) planner.
 */
export async function startFakeHub(
  catalogDir: string,
  options: { sizeBytes?: number; rateBytesPerS?: number; planner?: boolean } = {},
): Promise<FakeHub> {
  const args = ["-m", "tests.fake_hub_server", "--catalog-dir", catalogDir];
  if (options.sizeBytes !== undefined) args.push("--size", String(options.sizeBytes));
  if (options.rateBytesPerS !== undefined) args.push("--rate", String(options.rateBytesPerS));
  if (options.planner) args.push("--planner");
  const child = spawn(".venv/bin/python", args, { cwd: "inference", stdio: ["pipe", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`fake hub exited early (code ${code})`)));
  });
  const { endpoint, model_id: modelId } = JSON.parse(line) as { endpoint: string; model_id: string };
  return {
    endpoint,
    modelId,
    process: child,
    stop() {
      child.stdin?.end();
      child.kill("SIGTERM");
    },
  };
}
