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
