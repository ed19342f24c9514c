import { describe, expect, it } from "vitest";
import { CHARS_PER_TOKEN, elementCharBudget, SYSTEM_PROMPT, userPrompt } from "../../src-main/agent/prompt";
import type { DisplayInfo, ScreenElement } from "../../src-shared/bridge-api";

const display: DisplayInfo = {
  id: "0",
  name: "main",
  bounds: { x: 0, y: 0, width: 1920, height: 1080 },
  primary: true,
  scaleFactor: 1,
};
const elements: ScreenElement[] = Array.from({ length: 100 }, (_, i) => ({
  id: i + 1,
  kind: "text",
  text: `a line of terminal output number ${i} that is fairly long`,
  confidence: 0.9,
  box: { x: 0, y: i * 10, width: 500, height: 10 },
}));

describe("the prompt's element budget", () => {
  it("lists fewer elements for a small context and says how many it left out", () => {
    const request = { instruction: "open it", display, elements };
    const budget = elementCharBudget(2048, 768, request);
    const prompt = userPrompt(request, budget);
    const listed = prompt.split("\n").filter((line) => line.startsWith("["));
    expect(listed.length).toBeGreaterThan(5);
    expect(listed.length).toBeLessThan(100);
    expect(prompt).toContain(`(${100 - listed.length} more elements not listed)`);
    // At the estimate's characters per token, prompt and answer fit the context.
    expect((SYSTEM_PROMPT.length + prompt.length) / CHARS_PER_TOKEN + 768).toBeLessThanOrEqual(2048);
  });

  it("lists everything when the context is large, and nothing when there is no room", () => {
    const request = { instruction: "open it", display, elements };
    expect(userPrompt(request, elementCharBudget(131072, 768, request))).not.toContain("more elements not listed");
    expect(elementCharBudget(900, 768, request)).toBe(0);
  });
});
