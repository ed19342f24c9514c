import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plannerStepTextWriter } from "../../src-main/recording/planner-step-text";
import type { StepFacts } from "../../src-main/recording/step-text";
import { newSupervisor } from "./helpers";

const supervisor = newSupervisor({ env: { SIGHTLINE_PROFILE: "embedded" } });
const endpoint = async () => {
  const host = await supervisor.whenReady();
  return { baseURL: `${host.url}/v1`, apiKey: host.token };
};

const click: StepFacts = {
  kind: "click",
  time: 1200,
  at: { x: 400, y: 300 },
  button: "left",
  count: 1,
  target: { kind: "button", text: "Save", relation: "on", side: "center" } as never,
  windowTitle: "Quarterly report — Editor",
};

describe("step sentences from the host's planner", () => {
  beforeAll(async () => {
    await supervisor.start();
  });
  afterAll(async () => {
    await supervisor.stop();
  });

  it("are not asked for while no planner is loaded, so the recorder keeps its template", async () => {
    await expect(Promise.resolve(plannerStepTextWriter(endpoint)(click))).rejects.toThrow(/no planner model is loaded/);
  });

  it("come from the loaded planner, and only when they keep the control's name", async () => {
    const { baseURL, apiKey } = await endpoint();
    const loaded = await fetch(`${baseURL.replace(/\/v1$/, "")}/models/planner/load`, {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    expect(loaded.status).toBe(200);
    // The model answers (schema-constrained JSON); what it wrote is kept only if it keeps "**Save**". The
    // embedded 135M model tends to drop the bold, and then the guard refuses it and the template stays.
    const written = await Promise.resolve(plannerStepTextWriter(endpoint)(click)).catch((error: Error) => error);
    if (typeof written === "string") expect(written).toContain("**Save**");
    else expect(written.message).toMatch(/^the written sentence (drops|is empty|does not start)/);
  }, 60_000);
});
