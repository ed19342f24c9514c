import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAiPlanner } from "../../src-main/agent/openai-planner";
import { PlanRejected } from "../../src-main/agent/planner";
import type { DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";
import { Plan } from "../../src-shared/plan";
import { newSupervisor } from "./helpers";

const supervisor = newSupervisor({ env: { SIGHTLINE_PROFILE: "embedded" } });
const endpoint = async () => {
  const host = await supervisor.whenReady();
  return { baseURL: `${host.url}/v1`, apiKey: host.token };
};

const display: DisplayInfo = {
  id: "0",
  name: "main",
  bounds: { x: 0, y: 0, width: 1920, height: 1080 },
  primary: true,
  scaleFactor: 1,
};
const box = (x: number, y: number) => ({ x, y, width: 120, height: 28 });
const elements: ScreenElement[] = [
  { id: 1, kind: "text", text: "Contact form", confidence: 0.98, box: box(40, 20) },
  { id: 2, kind: "text_field", text: "Name", confidence: 0.95, box: box(40, 80) },
  { id: 3, kind: "text_field", text: "Email", confidence: 0.95, box: box(40, 130) },
  { id: 4, kind: "button", text: "Send", confidence: 0.97, box: box(40, 190) },
];

describe("the embedded planner through the host's OpenAI-compatible endpoint", () => {
  beforeAll(async () => {
    await supervisor.start();
  });
  afterAll(async () => {
    await supervisor.stop();
  });

  it("streams a plan that parses, whose element targets are on the screen", async () => {
    const planner = new OpenAiPlanner({ endpoint });
    const seen: string[] = [];
    const plan = await planner.plan(
      { instruction: "Put Ada Lovelace in the Name field", display, elements },
      { signal: new AbortController().signal, onText: (text) => seen.push(text) },
    );
    expect(Plan.safeParse(plan).success).toBe(true);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.at(-1)?.startsWith('{"steps":[')).toBe(true);
    for (const step of plan.steps) {
      const target = "target" in step.action ? step.action.target : undefined;
      if (target?.kind === "element") expect([1, 2, 3, 4]).toContain(target.elementId);
    }
  });

  it("answers a plan for an instruction on an empty screen too", async () => {
    const planner = new OpenAiPlanner({ endpoint });
    const plan = await planner.plan(
      { instruction: "Open the file menu", display, elements: [] },
      { signal: new AbortController().signal },
    );
    expect(plan.steps.length).toBeGreaterThan(0);
  });

  it("plans over a screen busier than the model's context by listing fewer elements", async () => {
    // 300 long lines are ~9,000 tokens: more than twice the embedded model's 4,096.
    const busy: ScreenElement[] = Array.from({ length: 300 }, (_, i) => ({
      id: i + 1,
      kind: "text",
      text: `drwxr-xr-x 2 root root 4096 Nov 23 10:${String(i % 60).padStart(2, "0")} directory-number-${i}`,
      confidence: 0.9,
      box: box(10, 10 + i * 3),
    }));
    const planner = new OpenAiPlanner({ endpoint });
    const plan = await planner.plan(
      { instruction: "Open the first directory", display, elements: busy },
      { signal: new AbortController().signal },
    );
    expect(Plan.safeParse(plan).success).toBe(true);
  }, 180_000); // a prompt that fills the context: a few seconds on an idle 2-core machine, far more on a busy one

  it("rejects an answer cut short by the token limit instead of running half a plan", async () => {
    const planner = new OpenAiPlanner({ endpoint, maxTokens: 12 });
    const error = await planner
      .plan({ instruction: "Send the form", display, elements }, { signal: new AbortController().signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanRejected);
    expect((error as PlanRejected).message).toMatch(/ran out of tokens/);
  });

  it("stops when the run is cancelled", async () => {
    const planner = new OpenAiPlanner({ endpoint });
    const controller = new AbortController();
    const planning = planner.plan({ instruction: "Send the form", display, elements }, { signal: controller.signal });
    controller.abort();
    await expect(planning).rejects.toThrow();
  });
});
