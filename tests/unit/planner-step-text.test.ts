import { describe, expect, it } from "vitest";
import { acceptSentence, keptParts } from "../../src-main/recording/planner-step-text";

describe("a planner-written step sentence", () => {
  const template = 'Type "Quarterly report" in **File name**';

  it("must keep the template's bold names and quoted text word for word", () => {
    expect(keptParts(template)).toEqual(['"Quarterly report"', "**File name**"]);
    expect(acceptSentence(template, ' Type "Quarterly report" in the **File name** box ')).toBe(
      'Type "Quarterly report" in the **File name** box',
    );
    expect(() => acceptSentence(template, 'Type "Quarterly" in **File name**')).toThrow(/drops "Quarterly report"/);
    expect(() => acceptSentence(template, 'Type "Quarterly report" in File name')).toThrow(/drops \*\*File name\*\*/);
  });

  it("must be one short sentence", () => {
    expect(() => acceptSentence("Click **Save**", "")).toThrow(/empty/);
    expect(() => acceptSentence("Click **Save**", `Click **Save** ${"now ".repeat(40)}`)).toThrow(/too long/);
    expect(() => acceptSentence("Click **Save**", "then click **Save**")).toThrow(/sentence/);
  });
});
