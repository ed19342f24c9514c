import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { EXPORT_FILES, newRecordingId, RecordingsLibrary } from "../../src-main/recording/recordings-library";
import { ReplayPlan } from "../../src-main/recording/replay-plan";
import type { DisplayInfo } from "../../src-shared/bridge-api";

const display: DisplayInfo = {
  id: "1",
  name: "screen",
  bounds: { x: 0, y: 0, width: 1920, height: 1080 },
  primary: true,
  scaleFactor: 1,
};

let root: string;
let library: RecordingsLibrary;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "recordings-"));
  library = new RecordingsLibrary(root);
});

async function recordingWithOneStep(title: string, now: Date) {
  const m = await library.create({ title, display, now });
  const png = Buffer.from("not really a png, bytes are bytes");
  await library.writeImage(m.id, "images/step-001.png", png);
  const complete = {
    ...m,
    status: "complete" as const,
    endedAt: new Date(now.getTime() + 60_000).toISOString(),
    steps: [
      {
        index: 1,
        kind: "click" as const,
        sentence: "Click **Save**",
        time: 10,
        at: { x: 5, y: 5 },
        button: "left" as const,
        count: 1 as const,
        target: {
          kind: "button" as const,
          text: "Save",
          relation: "on" as const,
          position: { x: 0.1, y: 0.1 },
          offset: { dx: 0, dy: 0 },
          size: { width: 40, height: 20 },
        },
        image: {
          file: "images/step-001.png",
          width: 10,
          height: 10,
          origin: { x: 0, y: 0 },
          timing: "before" as const,
          ageMs: 5,
          redacted: 0,
        },
      },
    ],
  };
  await library.save(complete);
  return complete;
}

describe("the recordings library", () => {
  it("creates a folder per recording with a manifest and an images folder", async () => {
    const m = await library.create({ title: "  My task  ", display, settings: { maskAllTyping: true } });
    expect(m).toMatchObject({ title: "My task", status: "recording", steps: [], settings: { maskAllTyping: true } });
    expect((await readdir(library.folder(m.id))).sort()).toEqual(["images", "manifest.json"]);
    expect(JSON.parse(await readFile(join(library.folder(m.id), "manifest.json"), "utf8"))).toEqual(m);
    expect(await library.get(m.id)).toEqual(m);
  });

  it("lists recordings newest first, and damaged folders so they can be deleted", async () => {
    const older = await recordingWithOneStep("Older", new Date("2025-01-01T10:00:00Z"));
    const newer = await library.create({ title: "Newer", display, now: new Date("2025-02-01T10:00:00Z") });
    await mkdir(join(root, "20240101-000000-badbad"));
    await writeFile(join(root, "20240101-000000-badbad", "manifest.json"), "{ not json");
    await mkdir(join(root, "not a recording"));
    const list = await library.list();
    expect(list.map((r) => [r.title, r.status, r.stepCount])).toEqual([
      ["Newer", "recording", 0],
      ["Older", "complete", 1],
      ["20240101-000000-badbad", "damaged", 0],
    ]);
    expect(list[1]?.folder).toBe(library.folder(older.id));
    expect(list[0]?.id).toBe(newer.id);
    await library.delete("20240101-000000-badbad");
    expect((await library.list()).map((r) => r.title)).toEqual(["Newer", "Older"]);
  });

  it("renames (and writes the exports again with the new title) and deletes", async () => {
    const m = await recordingWithOneStep("Before", new Date());
    await library.export(m.id);
    const renamed = await library.rename(m.id, "After <b>");
    expect(renamed.title).toBe("After <b>");
    expect((await library.get(m.id)).title).toBe("After <b>");
    expect(await readFile(join(library.folder(m.id), EXPORT_FILES.html), "utf8")).toContain("<h1>After &lt;b&gt;</h1>");
    await expect(library.rename(m.id, "   ")).rejects.toThrow(/title/);
    await library.delete(m.id);
    expect(await library.list()).toEqual([]);
    await expect(library.get(m.id)).rejects.toThrow();
  });

  it("writes the Markdown, HTML and plan exports into the recording's folder", async () => {
    const m = await recordingWithOneStep("Export me", new Date());
    const paths = await library.export(m.id);
    expect(paths.folder).toBe(library.folder(m.id));
    expect(await readFile(paths.markdown, "utf8")).toContain("![Step 1: Click Save](images/step-001.png)");
    expect(await readFile(paths.html, "utf8")).toContain(
      `src="data:image/png;base64,${Buffer.from("not really a png, bytes are bytes").toString("base64")}"`,
    );
    const plan = ReplayPlan.parse(JSON.parse(await readFile(paths.plan as string, "utf8")));
    expect(plan.steps[0]?.targets.target?.text).toBe("Save");
  });

  it("writes no plan for a recording without steps", async () => {
    const m = await library.create({ title: "Empty", display });
    const paths = await library.export(m.id);
    expect(paths.plan).toBeUndefined();
    expect((await readdir(paths.folder)).sort()).toEqual(["images", "manifest.json", "tutorial.html", "tutorial.md"]);
  });

  it("refuses ids and image names that could point outside the library", async () => {
    for (const id of ["..", "../x", "a/b", "", "/etc", "x\\y", ".hidden"]) {
      expect(() => library.folder(id), id).toThrow(/not a recording id/);
    }
    const m = await library.create({ title: "x", display });
    await expect(library.writeImage(m.id, "../manifest.json", Buffer.from("x"))).rejects.toThrow(/not a step image/);
    await expect(library.readImage(m.id, "images/../../x.png")).rejects.toThrow(/not a step image/);
  });

  it("does not use a manifest that does not parse or names another recording", async () => {
    const m = await library.create({ title: "x", display });
    const path = join(library.folder(m.id), "manifest.json");
    const data = JSON.parse(await readFile(path, "utf8"));
    await writeFile(path, JSON.stringify({ ...data, id: "20990101-000000-ffffff" }));
    await expect(library.get(m.id)).rejects.toThrow(/another recording/);
    await writeFile(path, JSON.stringify({ ...data, steps: [{ kind: "teleport" }] }));
    await expect(library.get(m.id)).rejects.toThrow();
  });

  it("makes sortable, unique ids", () => {
    const a = newRecordingId(new Date(2025, 0, 2, 3, 4, 5));
    expect(a).toMatch(/^20250102-030405-[0-9a-f]{6}$/);
    expect(newRecordingId(new Date(2025, 0, 2, 3, 4, 5))).not.toBe(a);
  });
});
