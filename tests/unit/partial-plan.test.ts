import { describe, expect, it } from "vitest";
import { PartialPlanReader, partialPlanSteps } from "../../src-main/agent/partial-plan";

const full = JSON.stringify({
  steps: [
    { description: "Click **Save {now}**", action: { type: "click", target: { kind: "element", elementId: 3 } } },
    { description: 'Type "a}b" in **Name**', action: { type: "type", text: 'a}b\\"]' } },
    { description: "Finish", action: { type: "done", summary: "saved" } },
  ],
});

describe("partialPlanSteps", () => {
  it("shows each step as soon as its object is complete, and only then", () => {
    const counts = new Set<number>();
    for (let end = 0; end <= full.length; end++) counts.add(partialPlanSteps(full.slice(0, end)).length);
    expect([...counts].sort()).toEqual([0, 1, 2, 3]);
    const firstDone = full.indexOf("}}}") + 3; // the end of the first step's object (target, action, step)
    expect(partialPlanSteps(full.slice(0, firstDone - 1))).toHaveLength(0);
    expect(partialPlanSteps(full.slice(0, firstDone))).toHaveLength(1);
  });

  it("is not fooled by braces and brackets inside strings", () => {
    const steps = partialPlanSteps(full);
    expect(steps.map((s) => s.description)).toEqual(["Click **Save {now}**", 'Type "a}b" in **Name**', "Finish"]);
    expect(steps[1]?.action).toEqual({ type: "type", text: 'a}b\\"]' });
  });

  it("stops at an object that is not a valid step", () => {
    const text =
      '{"steps":[{"description":"ok","action":{"type":"wait","ms":5}},{"description":"","action":{"type":"nope"}},';
    expect(partialPlanSteps(text)).toHaveLength(1);
    expect(partialPlanSteps('{"plan":[{"a":1}]}')).toEqual([]);
  });

  it("reading the stream piece by piece gives what reading each prefix whole gives, parsing each step once", () => {
    const reader = new PartialPlanReader();
    for (let end = 0; end <= full.length; end += 7) {
      const prefix = full.slice(0, end);
      expect(reader.read(prefix)).toEqual(partialPlanSteps(prefix));
    }
    const steps = reader.read(full);
    expect(steps).toHaveLength(3);
    const first = steps[0];
    expect(reader.read(`${full} `)[0]).toBe(first); // the same object: not parsed again
    expect(() => reader.read(full.slice(0, 10))).toThrow(/only grows/);
  });

  it("finds the key even when it arrives split across chunks", () => {
    const reader = new PartialPlanReader();
    expect(reader.read('{"ste')).toEqual([]);
    expect(reader.read('{"steps" : [')).toEqual([]);
    expect(reader.read(full.replace('{"steps":[', '{"steps" : ['))).toHaveLength(3);
  });
});
