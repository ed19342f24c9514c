import { describe, expect, it } from "vitest";
import { checkExpectation } from "../../src-main/agent/expectation";
import { reconcileElements } from "../../src-main/agent/reconcile";
import type { ScreenElement } from "../../src-shared/bridge-api";

const el = (id: number, kind: ScreenElement["kind"], text: string, x: number, y: number): ScreenElement => ({
  id,
  kind,
  text,
  confidence: 0.9,
  box: { x, y, width: 80, height: 24 },
});

describe("reconcileElements", () => {
  it("keeps the ids of elements still on screen, even when they moved a little", () => {
    const before = [el(1, "button", "Save", 100, 100), el(2, "text_field", "Name", 100, 200)];
    const fresh = [
      el(7, "text_field", "Name", 110, 230),
      el(8, "button", "Save", 100, 100),
      el(9, "text", "Saved", 0, 0),
    ];
    const { elements, highestId } = reconcileElements(before, fresh);
    expect(elements.map((e) => [e.text, e.id])).toEqual([
      ["Name", 2],
      ["Save", 1],
      ["Saved", 3],
    ]);
    expect(highestId).toBe(3);
  });

  it("never hands a vanished element's id to something else", () => {
    const before = [el(1, "button", "Delete", 100, 100), el(2, "button", "Cancel", 300, 100)];
    const fresh = [el(1, "button", "Cancel", 300, 100), el(2, "button", "OK", 100, 100)];
    const { elements } = reconcileElements(before, fresh, 5);
    expect(elements.find((e) => e.text === "Cancel")?.id).toBe(2);
    expect(elements.find((e) => e.text === "OK")?.id).toBe(6);
    expect(elements.some((e) => e.id === 1)).toBe(false);
  });

  it("treats a far jump, another kind or another text as a different element", () => {
    const before = [el(1, "button", "Save", 100, 100)];
    expect(reconcileElements(before, [el(1, "button", "Save", 900, 700)]).elements[0]?.id).toBe(2);
    expect(reconcileElements(before, [el(1, "link", "Save", 100, 100)]).elements[0]?.id).toBe(2);
    expect(reconcileElements(before, [el(1, "button", "Save as", 100, 100)]).elements[0]?.id).toBe(2);
    // Case, width and Unicode form of the same text do not matter.
    expect(reconcileElements(before, [el(1, "button", "  SAVE ", 104, 98)]).elements[0]?.id).toBe(1);
  });

  it("gives two identical buttons back their own ids by distance", () => {
    const before = [el(1, "button", "OK", 100, 100), el(2, "button", "OK", 200, 100)];
    const fresh = [el(1, "button", "OK", 205, 100), el(2, "button", "OK", 95, 100)];
    const { elements } = reconcileElements(before, fresh);
    expect(elements.map((e) => e.id)).toEqual([2, 1]);
  });
});

describe("checkExpectation", () => {
  const screen = [el(1, "text", "Report saved to Documents", 0, 0), el(2, "text_field", "Name: Zoë Ångström", 0, 40)];

  it("needs every quoted literal on the screen", () => {
    expect(checkExpectation('A banner says "Report saved"', screen).met).toBe(true);
    expect(checkExpectation("The **Name** field shows **Zoë Ångström**", screen).met).toBe(true);
    const missing = checkExpectation('The dialog shows "Export complete"', screen);
    expect(missing.met).toBe(false);
    expect(missing.detail).toContain("export complete");
  });

  it("otherwise needs most of the content words", () => {
    expect(checkExpectation("the report is saved", screen).met).toBe(true);
    expect(checkExpectation("an error dialog about permissions appears", screen).met).toBe(false);
  });

  it("passes what it cannot check", () => {
    expect(checkExpectation("it is shown", screen)).toEqual({ met: true, detail: "nothing checkable was expected" });
  });
});
