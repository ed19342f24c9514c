import { describe, expect, it } from "vitest";
import { type ApiHandlers, dispatchCall, toApiError } from "../../src-shared/bridge-api";

const unused = async (): Promise<never> => {
  throw new Error("not called in these tests");
};

const handlers: ApiHandlers = {
  getHostStatus: async () => ({ phase: "ready", version: "0.1.0", pid: 42 }),
  submitInstruction: async () => ({ wrong: "shape" }) as never,
  runPlan: unused,
  decide: unused,
  cancelRun: unused,
  getRun: unused,
  getRunScreenshot: unused,
  getSettings: unused,
  updateSettings: unused,
  watchTelemetry: unused,
  unwatchTelemetry: unused,
  getVramPlan: unused,
  listModels: unused,
  pullModel: unused,
  cancelPull: unused,
  recordingStart: unused,
  recordingStop: unused,
  recordingState: async () => ({ phase: "idle" }),
  listRecordings: unused,
  getRecording: unused,
  renameRecording: unused,
  deleteRecording: unused,
  exportRecording: unused,
  openRecordingFolder: unused,
  getRecordingImage: async () => ({ dataUrl: "file:///etc/passwd" }),
  replayRecording: unused,
};

describe("dispatchCall", () => {
  it("runs a valid call", async () => {
    await expect(dispatchCall(handlers, "getHostStatus", {})).resolves.toEqual({
      phase: "ready",
      version: "0.1.0",
      pid: 42,
    });
  });

  it("refuses unknown methods, including inherited names", async () => {
    await expect(dispatchCall(handlers, "launch", {})).rejects.toMatchObject({ code: "unknown_method" });
    await expect(dispatchCall(handlers, "toString", {})).rejects.toMatchObject({ code: "unknown_method" });
  });

  it("refuses bad input before the handler runs", async () => {
    await expect(dispatchCall(handlers, "submitInstruction", { instruction: "   " })).rejects.toMatchObject({
      code: "bad_input",
    });
    await expect(dispatchCall(handlers, "getHostStatus", { extra: 1 })).rejects.toMatchObject({ code: "bad_input" });
  });

  it("refuses a handler's output that breaks the schema", async () => {
    await expect(dispatchCall(handlers, "submitInstruction", { instruction: "go" })).rejects.toThrow();
  });

  it("keeps an error's code when it crosses the bridge", () => {
    expect(toApiError(Object.assign(new Error("gone"), { code: "disconnected" }))).toEqual({
      code: "disconnected",
      message: "gone",
    });
    expect(toApiError("odd")).toEqual({ code: "internal", message: "odd" });
  });
});

describe("the recording calls", () => {
  it("refuses recording ids and image files that could leave the library", async () => {
    await expect(dispatchCall(handlers, "deleteRecording", { id: "../etc" })).rejects.toMatchObject({
      code: "bad_input",
    });
    await expect(
      dispatchCall(handlers, "getRecordingImage", { id: "2026-01-01-ab", file: "../manifest.json" }),
    ).rejects.toMatchObject({ code: "bad_input" });
    await expect(dispatchCall(handlers, "renameRecording", { id: "2026-01-01-ab", title: "  " })).rejects.toMatchObject(
      { code: "bad_input" },
    );
  });

  it("refuses an image answer that is not a PNG data URL", async () => {
    await expect(
      dispatchCall(handlers, "getRecordingImage", { id: "2026-01-01-ab", file: "images/step-001.png" }),
    ).rejects.toThrow();
  });

  it("passes a valid recorder state", async () => {
    await expect(dispatchCall(handlers, "recordingState", {})).resolves.toEqual({ phase: "idle" });
  });
});
