import { describe, expect, it } from "vitest";
import { describeTargetAt, ElementDescription, elementAt, sideOf } from "../../src-main/recording/element-description";
import { groundDescription, textSimilarity } from "../../src-main/recording/grounding";
import { lettersAndDigits } from "../../src-main/util/text-keys";
import type { DisplayInfo, ElementKind, ScreenElement } from "../../src-shared/bridge-api";

const display = (width = 1920, height = 1080, x = 0, y = 0, scaleFactor = 1): DisplayInfo => ({
  id: "d",
  name: "d",
  bounds: { x, y, width, height },
  primary: true,
  scaleFactor,
});

let nextId = 1;
const el = (text: string, x: number, y: number, width: number, height: number, kind: ElementKind = "text") =>
  ({ id: nextId++, kind, text, confidence: 0.9, box: { x, y, width, height } }) satisfies ScreenElement;

/** A form as the OCR sees it, its window's content at (dx, dy). */
const form = (dx = 0, dy = 0): ScreenElement[] => [
  el("Sightline recording form", 147 + dx, 89 + dy, 185, 23),
  el("Name", 136 + dx, 233 + dy, 73, 27),
  el("Password", 138 + dx, 313 + dy, 108, 27),
  el("Sendmeupdates", 182 + dx, 392 + dy, 198, 29),
  el("Volume", 136 + dx, 472 + dy, 90, 29),
  el("Save", 342 + dx, 557 + dy, 58, 29),
  el("History", 756 + dx, 231 + dy, 87, 31),
  el("Monday 1", 771 + dx, 292 + dy, 111, 27),
  el("Tuesday 1", 771 + dx, 348 + dy, 115, 27),
];

describe("what a point acts on", () => {
  it("is the element under it, the smallest when several hold it", () => {
    const elements = [el("Toolbar", 0, 0, 800, 60, "other"), el("Save", 100, 10, 60, 30, "button")];
    expect(elementAt({ x: 120, y: 20 }, elements)?.element.text).toBe("Save");
    expect(elementAt({ x: 120, y: 20 }, elements)?.relation).toBe("on");
  });

  it("is a field's label on its row to the left, not the label of the next row below", () => {
    // A click in the empty Name field (300..660 × 227..267): Password's label is nearer as the crow flies.
    const found = elementAt({ x: 408, y: 247 }, form());
    expect(found).toMatchObject({ relation: "near", element: { text: "Name" } });
    expect(elementAt({ x: 408, y: 330 }, form())?.element.text).toBe("Password");
  });

  it("is the label on the field's row, not text further above (an address bar, the field before's content)", () => {
    const withChrome = [...form(), el("File/work/main/tests/fixtures/recording-form.html", 228, 132, 386, 21)];
    expect(elementAt({ x: 408, y: 247 }, withChrome)?.element.text).toBe("Name");
    const filled = [...withChrome, el("AdaLovelacel", 302, 233, 138, 27)];
    expect(elementAt({ x: 408, y: 327 }, filled)?.element.text).toBe("Password");
  });

  it("is a label just above the field, in a form with labels above", () => {
    const above = [el("E-mail", 40, 100, 70, 20), el("Phone", 40, 170, 70, 20), el("Sign up", 400, 20, 90, 30)];
    // Fields at y 124..156 and 194..226, clicked in the middle, well right of the labels.
    expect(elementAt({ x: 200, y: 140 }, above)?.element.text).toBe("E-mail");
    expect(elementAt({ x: 200, y: 210 }, above)?.element.text).toBe("Phone");
  });

  it("is a checkbox's label to its right", () => {
    expect(elementAt({ x: 154, y: 407 }, form())?.element.text).toBe("Sendmeupdates");
  });

  it("is nothing far from any text, and never an element without text", () => {
    expect(elementAt({ x: 1800, y: 1000 }, form())).toBeUndefined();
    expect(elementAt({ x: 10, y: 10 }, [el("", 0, 0, 40, 40, "icon")])).toBeUndefined();
  });

  it("is described with its kind, text, rough place and the point's offset in logical points", () => {
    const d = describeTargetAt({ x: 408, y: 247 }, form(), display(1280, 800));
    expect(ElementDescription.parse(d)).toEqual(d);
    expect(d).toMatchObject({ kind: "text", text: "Name", relation: "near" });
    expect(d?.offset.dx).toBeCloseTo(408 - (136 + 73 / 2));
    expect(d?.offset.dy).toBeCloseTo(247 - (233 + 27 / 2));
    expect(d?.position.x).toBeCloseTo((136 + 73 / 2) / 1280);
    expect(sideOf(d as ElementDescription)).toBe("right");
    const hidpi = describeTargetAt({ x: 408, y: 247 }, form(), display(1280, 800, 0, 0, 2));
    expect(hidpi?.offset.dx).toBeCloseTo((408 - (136 + 73 / 2)) / 2);
  });
});

describe("text similarity", () => {
  it("forgives the observer's spacing, case and small misreadings", () => {
    expect(lettersAndDigits("Send me updates!")).toBe("sendmeupdates");
    expect(textSimilarity("Send me updates", "Sendmeupdates")).toBe(1);
    expect(textSimilarity("Password", "Passwcrd")).toBeGreaterThan(0.85);
    expect(textSimilarity("Wednesday 1", "Wednesday1")).toBe(1);
  });

  it("does not take a word for a longer one that merely contains it", () => {
    expect(textSimilarity("Name", "Username")).toBeLessThan(0.75);
    expect(textSimilarity("Save", "Save as template")).toBeLessThan(0.75);
    expect(textSimilarity("Save", "Cancel")).toBeLessThan(0.5);
    expect(textSimilarity("", "Save")).toBe(0);
  });
});

describe("groundDescription", () => {
  const recordedOn = display(3840, 1080);

  it("finds the element again in a moved window and applies the recorded offset", () => {
    const description = describeTargetAt({ x: 408, y: 247 }, form(), recordedOn) as ElementDescription;
    const moved = form(1400, 260);
    const g = groundDescription(description, moved, recordedOn);
    expect(g?.element.text).toBe("Name");
    expect(g?.point.x).toBeCloseTo(408 + 1400);
    expect(g?.point.y).toBeCloseTo(247 + 260);
  });

  it("finds a label whose text the observer reads a little differently this time", () => {
    const description = describeTargetAt({ x: 154, y: 407 }, form(), recordedOn) as ElementDescription;
    const reread = form(30, 40).map((e) => (e.text === "Sendmeupdates" ? { ...e, text: "Send me updates" } : e));
    const g = groundDescription(description, reread, recordedOn);
    expect(g?.element.text).toBe("Send me updates");
    expect(g?.point).toEqual({ x: 154 + 30, y: 407 + 40 });
  });

  it("picks, among elements with the same text, the one nearest the recorded place", () => {
    const description = describeTargetAt({ x: 371, y: 571 }, form(), recordedOn) as ElementDescription;
    const twoSaves = [...form(), el("Save", 3000, 900, 58, 29)];
    expect(groundDescription(description, twoSaves, recordedOn)?.element.box.x).toBe(342);
    const movedFar = [...form(2000, 0), el("Save", 380, 560, 58, 29)];
    // The window moved far right, yet another "Save" sits where the old one was: position wins the tie.
    expect(groundDescription(description, movedFar, recordedOn)?.element.box.x).toBe(380);
  });

  it("prefers an element of the recorded kind when texts tie", () => {
    const description: ElementDescription = {
      kind: "button",
      text: "OK",
      relation: "on",
      position: { x: 0.5, y: 0.5 },
      offset: { dx: 0, dy: 0 },
      size: { width: 40, height: 20 },
    };
    const elements = [el("OK", 900, 520, 40, 20, "text"), el("OK", 960, 520, 40, 20, "button")];
    expect(groundDescription(description, elements, recordedOn)?.element.kind).toBe("button");
  });

  it("finds nothing when the text is not on the screen, rather than guess", () => {
    const description = describeTargetAt({ x: 408, y: 247 }, form(), recordedOn) as ElementDescription;
    const without = form(100, 100).filter((e) => e.text !== "Name");
    expect(groundDescription(description, without, recordedOn)).toBeUndefined();
    expect(groundDescription(description, [], recordedOn)).toBeUndefined();
  });

  it("scales the offset by the live display's scale factor", () => {
    const description = describeTargetAt({ x: 408, y: 247 }, form(), recordedOn) as ElementDescription;
    const doubled = form().map((e) => ({
      ...e,
      box: { x: e.box.x * 2, y: e.box.y * 2, width: e.box.width * 2, height: e.box.height * 2 },
    }));
    const g = groundDescription(description, doubled, display(7680, 2160, 0, 0, 2));
    expect(g?.point.x).toBeCloseTo(408 * 2);
    expect(g?.point.y).toBeCloseTo(247 * 2);
  });
});
