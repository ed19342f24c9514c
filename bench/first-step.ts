/**
 * Enter → first plan step, end to end through the real services on the
 * current X display: capture, the host's observe (real OCR), and the profile's
 * planner streaming its plan, timed until the first step is in the run state
 * the renderer draws. Nothing is confirmed, so nothing on the desktop is
 * touched. Run through bench/first-step.sh, which starts Xvfb.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Services } from "../src-main/services";
import type { RunState } from "../src-shared/bridge-api";
import { summarize } from "./machine";

const runs = Number(process.env.BENCH_RUNS ?? 8);
const profile = process.env.SIGHTLINE_PROFILE ?? "embedded";
const instructions = ["export this as PDF", "open the file menu", "close this window", "make the text bigger"];

const services = new Services({ configDir: mkdtempSync(join(tmpdir(), "sightline-bench-")), log: () => {} });
await services.settings.update({ profile: profile as "embedded" | "single-gpu" | "workstation" });
await services.start();
await services.supervisor.whenReady();

type Sample = { firstStep: number; plan: number; capture: number; observe: number; planner: number };

async function once(instruction: string): Promise<Sample> {
  const started = performance.now();
  let firstStep = Number.NaN;
  const { runId } = services.runs.start(instruction);
  // Starting a run cancels the one before; only this run's states count.
  const state = await new Promise<RunState>((resolve) => {
    const off = services.runs.on("run", (s) => {
      if (s.runId !== runId) return;
      if (Number.isNaN(firstStep) && s.steps.length > 0) firstStep = performance.now() - started;
      if (["confirming", "done", "failed", "cancelled"].includes(s.stage)) {
        off();
        resolve(s);
      }
    });
  });
  const plan = performance.now() - started;
  if (state.stage === "failed") throw new Error(`run failed: ${state.error?.message}`);
  if (state.stage === "confirming") services.runs.cancel(runId);
  const t = state.timingsMs;
  return { firstStep, plan, capture: t.capture ?? 0, observe: t.observe ?? 0, planner: t.plan ?? 0 };
}

try {
  await once("warm up"); // loads the OCR and planner models
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await once(instructions[i % instructions.length] as string));
  const metric = (name: string, pick: (s: Sample) => number) => ({
    profile,
    metric: name,
    ...summarize(samples.map(pick)),
  });
  const rows = [
    metric("enter → first step shown", (s) => s.firstStep),
    metric("enter → whole plan shown", (s) => s.plan),
    metric("capture", (s) => s.capture),
    metric("observe (host)", (s) => s.observe),
    metric("plan (planner, streamed)", (s) => s.planner),
  ];
  process.stdout.write(`${JSON.stringify(rows)}\n`);
} finally {
  await services.stop();
}
