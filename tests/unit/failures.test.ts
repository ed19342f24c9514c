import { describe, expect, it } from "vitest";
import { describeFailure } from "../../src-main/agent/failures";

describe("describeFailure", () => {
  it("turns the host's missing-model answer into words, the command on its own, and no Retry", () => {
    const error = Object.assign(
      new Error(
        "503 model tiny is not in the model store at /s (missing); fetch it with: sightline-host models pull tiny " +
          "(command: `sightline-host models pull tiny`)",
      ),
      { code: "model_unavailable" },
    );
    expect(describeFailure(error)).toEqual({
      code: "model_unavailable",
      message: "model tiny is not in the model store at /s (missing); fetch it with: sightline-host models pull tiny",
      command: "sightline-host models pull tiny",
      retryable: false,
    });
  });

  it("keeps a message that merely starts with a number, and says retry where it may help", () => {
    const failure = describeFailure(
      Object.assign(new Error("3 steps ran before the host went away"), { code: "busy" }),
    );
    expect(failure).toEqual({ code: "busy", message: "3 steps ran before the host went away", retryable: true });
    expect(describeFailure("boom")).toEqual({ code: "internal", message: "boom", retryable: true });
  });
});
