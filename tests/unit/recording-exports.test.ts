import { describe, expect, it } from "vitest";
import type { ElementDescription } from "../../src-main/recording/element-description";
import { toHtml } from "../../src-main/recording/export-html";
import { plainSentence, toMarkdown } from "../../src-main/recording/export-markdown";
import { type RecordedStep, RecordingManifest } from "../../src-main/recording/recording-manifest";
import { ReplayPlan, toReplayPlan } from "../../src-main/recording/replay-plan";
import {
  escapeMarkdown,
  inlineMarkdownToHtml,
  type StepFacts,
  templateStepText,
} from "../../src-main/recording/step-text";
import { PlanStep } from "../../src-shared/plan";

const describeAs = (text: string, relation: "on" | "near", dx = 0, dy = 0, kind: ElementDescription["kind"] = "text") =>
  ({
    kind,
    text,
    relation,
    position: { x: 0.2, y: 0.3 },
    offset: { dx, dy },
    size: { width: 70, height: 26 },
  }) satisfies ElementDescription;

const image = (n: number) => ({
  file: `images/step-${String(n).padStart(3, "0")}.png`,
  width: 4,
  height: 3,
  origin: { x: 0, y: 0 },
  marker: { x: 2, y: 1 },
  timing: "before" as const,
  ageMs: 40,
  redacted: 0,
});

function manifest(steps: Array<Omit<RecordedStep, "index" | "sentence"> & { sentence?: string }>): RecordingManifest {
  return RecordingManifest.parse({
    format: "sightline-recording",
    version: 1,
    id: "20250101-120000-abcdef",
    title: "Fill in the <form> *fast*",
    createdAt: "2025-01-01T12:00:00.000Z",
    endedAt: "2025-01-01T12:01:00.000Z",
    status: "complete",
    display: {
      id: "1",
      name: "screen",
      bounds: { x: 0, y: 0, width: 1920, height: 1080 },
      primary: true,
      scaleFactor: 1,
    },
    settings: {},
    steps: steps.map((s, i) => ({ ...s, index: i + 1, sentence: s.sentence ?? templateStepText(s as StepFacts) })),
  });
}

const FORM_STEPS = [
  {
    kind: "click",
    time: 100,
    at: { x: 400, y: 250 },
    button: "left",
    count: 1,
    target: describeAs("Name", "near", 190, 0),
    windowTitle: "Form - Chromium",
    image: image(1),
  },
  {
    kind: "type",
    time: 900,
    typed: { kind: "text", text: "Ada <b>Lovelace</b>", incomplete: false },
    field: describeAs("Name", "near", 190, 0),
    focusedBy: 1,
    windowTitle: "Form - Chromium",
  },
  {
    kind: "click",
    time: 1500,
    at: { x: 400, y: 330 },
    button: "left",
    count: 1,
    target: describeAs("Password", "near", 160, 0),
    image: image(3),
  },
  { kind: "type", time: 1900, typed: { kind: "secret" }, field: describeAs("Password", "near", 160, 0), focusedBy: 3 },
  {
    kind: "click",
    time: 2500,
    at: { x: 154, y: 407 },
    button: "left",
    count: 1,
    target: describeAs("Send me updates", "near", -120, 0),
  },
  {
    kind: "drag",
    time: 3000,
    from: { x: 308, y: 487 },
    to: { x: 598, y: 487 },
    button: "left",
    target: describeAs("Volume", "near", 127, 0),
  },
  { kind: "scroll", time: 3500, at: { x: 830, y: 360 }, dx: 0, dy: 3, target: describeAs("Tuesday 1", "on") },
  { kind: "key", time: 3900, keys: ["LeftControl", "S"], label: "Ctrl+S" },
  {
    kind: "type",
    time: 4200,
    typed: { kind: "text", text: "notes", incomplete: false },
    field: describeAs("Notes", "near", 150, 0),
  },
  {
    kind: "click",
    time: 4500,
    at: { x: 371, y: 571 },
    button: "left",
    count: 1,
    target: describeAs("Save", "on", 0, 0, "button"),
  },
] as const;

describe("step sentences", () => {
  it("are short imperatives naming the element, from templates", () => {
    const m = manifest(FORM_STEPS.map((s) => ({ ...s })) as never);
    expect(m.steps.map((s) => s.sentence)).toEqual([
      "Click the **Name** field",
      'Type "Ada \\<b\\>Lovelace\\</b\\>" in **Name**',
      "Click the **Password** field",
      "Type your password in **Password**",
      "Click the box beside **Send me updates**",
      "Drag the control beside **Volume** to the right",
      "Scroll down over **Tuesday 1**",
      "Press **Ctrl+S**",
      'Type "notes" in **Notes**',
      "Click **Save**",
    ]);
  });

  it("cover double and right clicks, masked typing and steps with nothing to name", () => {
    const base = { time: 0, at: { x: 1, y: 1 }, button: "left", count: 1 } as const;
    expect(templateStepText({ kind: "click", ...base, count: 2, target: describeAs("report.pdf", "on") })).toBe(
      "Double-click **report.pdf**",
    );
    expect(templateStepText({ kind: "click", ...base, button: "right", target: describeAs("File", "on") })).toBe(
      "Right-click **File**",
    );
    expect(templateStepText({ kind: "click", ...base })).toBe("Click the spot shown");
    expect(templateStepText({ kind: "type", time: 0, typed: { kind: "masked" } })).toBe("Type your text");
    expect(templateStepText({ kind: "scroll", time: 0, at: { x: 1, y: 1 }, dx: 0, dy: -2 })).toBe("Scroll up");
  });

  it("escape Markdown in recorded text, and render back to escaped HTML", () => {
    expect(escapeMarkdown("a*b_[c](d)")).toBe("a\\*b\\_\\[c\\]\\(d\\)");
    const sentence = `Click **${escapeMarkdown("<img src=x onerror=alert(1)> *x*")}**`;
    expect(inlineMarkdownToHtml(sentence)).toBe("Click <strong>&lt;img src=x onerror=alert(1)&gt; *x*</strong>");
    expect(plainSentence(sentence)).toBe("Click <img src=x onerror=alert(1)> *x*");
  });
});

describe("the Markdown export", () => {
  it("numbers the steps, shows their screenshots from images/ and names the window when it changes", () => {
    const md = toMarkdown(manifest(FORM_STEPS.map((s) => ({ ...s })) as never));
    expect(md.startsWith("# Fill in the \\<form\\> \\*fast\\*\n")).toBe(true);
    expect(md).toContain("10 steps");
    expect(md).toContain(
      "1. Click the **Name** field\n\n   *In Form - Chromium*\n\n   ![Step 1: Click the Name field](images/step-001.png)",
    );
    expect(md).toContain(
      "3. Click the **Password** field\n\n   ![Step 3: Click the Password field](images/step-003.png)",
    );
    expect(md.match(/\*In Form - Chromium\*/g)).toHaveLength(1);
    expect(md).toContain("4. Type your password in **Password**\n");
  });
});

describe("the HTML export", () => {
  const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
  const images = new Map([
    ["images/step-001.png", png],
    ["images/step-003.png", Buffer.concat([png, Buffer.from([1, 2, 3])])],
  ]);

  it("is one file with the screenshots inlined, its text escaped, and no script allowed", () => {
    const m = manifest(FORM_STEPS.map((s) => ({ ...s })) as never);
    const html = toHtml(m, images);
    const sources = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((x) =>
      Buffer.from(x[1] as string, "base64"),
    );
    expect(sources).toEqual([images.get("images/step-001.png"), images.get("images/step-003.png")]);
    expect(html).toContain("<title>Fill in the &lt;form&gt; *fast*</title>");
    expect(html).toContain("<p>Type &quot;Ada &lt;b&gt;Lovelace&lt;/b&gt;&quot; in <strong>Name</strong></p>");
    expect(html).not.toMatch(/<b>|<script|src="(?!data:)/i);
    expect(html).toContain("Content-Security-Policy");
    expect(html.match(/<li>/g)).toHaveLength(10);
    expect(html.match(/<div class="window">In Form - Chromium<\/div>/g)).toHaveLength(1);
  });
});

describe("the replay plan", () => {
  const m = manifest(FORM_STEPS.map((s) => ({ ...s })) as never);
  const plan = toReplayPlan(m);

  it("is made of the app's plan steps, one for each recorded step", () => {
    expect(ReplayPlan.parse(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
    expect(plan.steps).toHaveLength(m.steps.length);
    for (const s of plan.steps) expect(PlanStep.parse(s.step)).toEqual(s.step);
    expect(plan.steps.map((s) => s.step.action.type)).toEqual([
      "click",
      "type",
      "click",
      "ask",
      "click",
      "drag",
      "scroll",
      "key",
      "type",
      "click",
    ]);
  });

  it("names every target by an element description", () => {
    expect(plan.steps[0]?.targets).toEqual({ target: m.steps[0]?.kind === "click" && m.steps[0].target });
    expect(plan.steps[9]?.targets.target?.text).toBe("Save");
    expect(plan.steps[6]?.targets.target?.text).toBe("Tuesday 1");
  });

  it("types into the field the click before focused without clicking it again", () => {
    expect(plan.steps[1]?.step.action).toEqual({ type: "type", text: "Ada <b>Lovelace</b>" });
    expect(plan.steps[1]?.targets).toEqual({});
    // No click put the focus in "Notes": the field is clicked first, found by its label.
    expect(plan.steps[8]?.step.action).toMatchObject({ type: "type", text: "notes", target: { kind: "point" } });
    expect(plan.steps[8]?.targets.target?.text).toBe("Notes");
  });

  it("asks for a password at replay time instead of keeping it", () => {
    expect(plan.steps[3]).toMatchObject({
      input: { kind: "secret" },
      step: { action: { type: "ask", question: "Type your password in Password" } },
    });
  });

  it("finds a drag's drop point from the anchor of its start when it had none of its own", () => {
    const drag = plan.steps[5];
    expect(drag?.targets.from?.offset).toEqual({ dx: 127, dy: 0 });
    expect(drag?.targets.to).toMatchObject({ text: "Volume", offset: { dx: 127 + 290, dy: 0 } });
  });

  it("cannot be made from a recording without steps", () => {
    expect(() => toReplayPlan(manifest([]))).toThrow();
  });
});
