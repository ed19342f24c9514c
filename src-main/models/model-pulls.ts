import type { ModelPullState } from "../../src-shared/bridge-api";
import type { PullProgress, PullResult } from "../../src-shared/protocol/model-store";
import { TypedEvents } from "../util/typed-events";

/** What ModelPulls needs of the host client. */
export type PullClient = {
  pullModel(modelId: string, onProgress: (progress: PullProgress) => void): Promise<PullResult>;
  cancelPull(modelId: string): Promise<boolean>;
};

/**
 * The app's model pulls: each runs on the host (one per model), reports through `state` events, and is
 * remembered while it runs, so that a window opened later (or reloaded) sees it too.
 */
export class ModelPulls extends TypedEvents<{ state: ModelPullState }> {
  private readonly running = new Map<string, ModelPullState>();

  constructor(private readonly client: PullClient) {
    super();
  }

  /** The pulls running now, each with its latest progress. */
  get current(): ModelPullState[] {
    return [...this.running.values()];
  }

  /** Starts a pull and returns at once; throws (code pull_in_progress) when that model is already pulling. */
  start(modelId: string): void {
    if (this.running.has(modelId))
      throw Object.assign(new Error(`${modelId} is already being pulled`), { code: "pull_in_progress" });
    this.update({ status: "pulling", modelId, progress: null });
    this.client
      .pullModel(modelId, ({ type: _type, id: _id, ...progress }) =>
        this.update({ status: "pulling", modelId, progress }),
      )
      .then(
        (result) =>
          this.update({ status: "done", modelId, message: result.message, alreadyPresent: result.already_present }),
        (error: unknown) => this.update(ended(modelId, error)),
      );
  }

  async cancel(modelId: string): Promise<boolean> {
    return this.client.cancelPull(modelId);
  }

  private update(state: ModelPullState): void {
    if (state.status === "pulling") this.running.set(state.modelId, state);
    else this.running.delete(state.modelId);
    this.emit("state", state);
  }
}

/** A rejected pull as its end: cancelled, or failed with the host's code and the command that fixes it. */
function ended(modelId: string, error: unknown): ModelPullState {
  const { code, command } = error as { code?: unknown; command?: unknown };
  const message = error instanceof Error ? error.message : String(error);
  if (code === "pull_cancelled") return { status: "cancelled", modelId, message };
  return {
    status: "failed",
    modelId,
    error: {
      code: typeof code === "string" ? code : "internal",
      message,
      ...(typeof command === "string" && command ? { command } : {}),
    },
  };
}
