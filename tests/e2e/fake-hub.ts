import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type HeadlessApp, startHeadlessApp } from "./headless-app";

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

/**
 * A fake hub with its catalog, and the headless app whose host uses both: the catalog, a store and settings of
 * its own in a fresh folder, downloads from the fake hub, online whatever the environment says.
 */
export async function startAppWithFakeHub(
  options: Parameters<typeof startFakeHub>[1] = {},
): Promise<{ hub: FakeHub; app: HeadlessApp }> {
  const dir = mkdtempSync(join(tmpdir(), "sightline-hub-e2e-"));
  const hub = await startFakeHub(join(dir, "catalog"), options);
  const app = await startHeadlessApp({
    SIGHTLINE_CONFIG_DIR: join(dir, "config"),
    SIGHTLINE_CATALOG_DIR: join(dir, "catalog"),
    SIGHTLINE_MODELS_DIR: join(dir, "store"),
    HF_ENDPOINT: hub.endpoint,
    HF_TOKEN: "hf_e2e_test_token",
    SIGHTLINE_OFFLINE: "",
    HF_HUB_OFFLINE: "",
  });
  return { hub, app };
}
