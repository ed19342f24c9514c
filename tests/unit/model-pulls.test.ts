import { describe, expect, it } from "vitest";
import { HostError } from "../../src-main/host/client";
import { ModelPulls, type PullClient } from "../../src-main/models/model-pulls";
import { API_EVENTS, type ModelPullState } from "../../src-shared/bridge-api";
import type { PullProgress, PullResult } from "../../src-shared/protocol/model-store";

const progress = (bytes: number): PullProgress => ({
  type: "pull_progress",
  id: "r1",
  model_id: "tiny",
  phase: "download",
  file: "model.onnx",
  files_done: 0,
  files_total: 1,
  bytes_done: bytes,
  bytes_total: 100,
  percent: bytes,
});

/** A host client whose one pull the test ends by hand. */
function fakeClient() {
  let report: (p: PullProgress) => void = () => {};
  let finish: { resolve: (r: PullResult) => void; reject: (e: unknown) => void } | undefined;
  const client: PullClient = {
    pullModel: (_id, onProgress) => {
      report = onProgress;
      return new Promise((resolve, reject) => {
        finish = { resolve, reject };
      });
    },
    cancelPull: async () => true,
  };
  return { client, report: (p: PullProgress) => report(p), finish: () => finish };
}

function follow(pulls: ModelPulls): ModelPullState[] {
  const seen: ModelPullState[] = [];
  pulls.on("state", (state) => seen.push(API_EVENTS.modelPull.parse(state)));
  return seen;
}

describe("ModelPulls", () => {
  it("reports a pull's progress without the protocol's id, remembers it while it runs, then says it is done", async () => {
    const fake = fakeClient();
    const pulls = new ModelPulls(fake.client);
    const seen = follow(pulls);
    pulls.start("tiny");
    fake.report(progress(40));
    expect(pulls.current).toEqual([seen[1]]);
    expect(seen[1]).toMatchObject({ status: "pulling", progress: { bytes_done: 40, percent: 40 } });
    expect(seen[1]?.status === "pulling" && seen[1].progress && "id" in seen[1].progress).toBe(false);
    expect(() => pulls.start("tiny")).toThrow(expect.objectContaining({ code: "pull_in_progress" }));
    fake.finish()?.resolve({
      type: "pull_result",
      id: "r1",
      model_id: "tiny",
      already_present: false,
      revision: "a".repeat(40),
      downloaded_bytes: 100,
      path: "/store/tiny",
      message: "tiny: verified and installed",
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(seen.at(-1)).toEqual({
      status: "done",
      modelId: "tiny",
      message: "tiny: verified and installed",
      alreadyPresent: false,
    });
    expect(pulls.current).toEqual([]);
  });

  it("turns the host's errors into a failure with its command, and pull_cancelled into cancelled", async () => {
    for (const [error, want] of [
      [
        new HostError("offline", "offline mode: set SIGHTLINE_OFFLINE=0", "sightline-host models pull tiny"),
        {
          status: "failed",
          modelId: "tiny",
          error: {
            code: "offline",
            message: "offline mode: set SIGHTLINE_OFFLINE=0",
            command: "sightline-host models pull tiny",
          },
        },
      ],
      [new HostError("pull_cancelled", "cancelled"), { status: "cancelled", modelId: "tiny", message: "cancelled" }],
      [
        new HostError("disconnected", "gone"),
        { status: "failed", modelId: "tiny", error: { code: "disconnected", message: "gone" } },
      ],
    ] as const) {
      const fake = fakeClient();
      const pulls = new ModelPulls(fake.client);
      const seen = follow(pulls);
      pulls.start("tiny");
      fake.finish()?.reject(error);
      await Promise.resolve();
      await Promise.resolve();
      expect(seen.at(-1)).toEqual(want);
      expect(pulls.current).toEqual([]);
    }
  });
});
