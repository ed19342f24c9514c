/** Words for the Models view, apart from the components so that they can be tested. */
import type { ModelInfo, PullProgressView } from "../../../src-shared/bridge-api";
import { formatBytes } from "./vram";

export const STATE_TEXT: Record<ModelInfo["state"], string> = {
  present: "Present",
  missing: "Missing",
  partial: "Partly downloaded",
  incomplete: "Files missing",
  installed: "Installed (package)",
  not_installed: "Package not installed",
};

/** Whether the store can fetch the model: a hub model not (fully) in the store. */
export function canPull(model: ModelInfo): boolean {
  return model.source === "hub" && model.state !== "present";
}

/** "Pull", or "Resume" for an interrupted pull, "Pull again" for a damaged one. */
export function pullLabel(model: ModelInfo): string {
  return model.state === "partial" ? "Resume" : model.state === "incomplete" ? "Pull again" : "Pull";
}

const PHASE_TEXT: Record<PullProgressView["phase"], string> = {
  resolve: "Finding the files",
  download: "Downloading",
  verify: "Checking",
  done: "Done",
};

/** "Downloading model.onnx (file 2 of 2)". */
export function phaseText(progress: PullProgressView): string {
  const file = progress.file ? ` ${progress.file}` : "";
  const count =
    progress.files_total > 0
      ? ` (file ${Math.min(progress.files_done + 1, progress.files_total)} of ${progress.files_total})`
      : "";
  return progress.phase === "done" || progress.phase === "resolve"
    ? PHASE_TEXT[progress.phase]
    : `${PHASE_TEXT[progress.phase]}${file}${count}`;
}

/** "12 MiB of 40 MiB (31 %)", or "Starting…" before the sizes are known. */
export function bytesText(progress: PullProgressView | null): string {
  if (!progress || progress.bytes_total === 0) return "Starting…";
  return `${formatBytes(progress.bytes_done)} of ${formatBytes(progress.bytes_total)} (${Math.floor(progress.percent)} %)`;
}

/** The model a `sightline-host models pull <id>` command fetches (a run's "model missing" fix), else undefined. */
export function pulledModel(command: string | undefined): string | undefined {
  return command?.match(/^sightline-host models pull ([A-Za-z0-9][A-Za-z0-9._-]*)$/)?.[1];
}
