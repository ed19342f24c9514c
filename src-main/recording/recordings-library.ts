/**
 * The recordings on disk: one folder a recording, named by its id, holding
 * `manifest.json`, `images/step-NNN.png` and the exports (`tutorial.md`,
 * `tutorial.html`, `plan.json`). Ids from outside are checked against the id
 * pattern before they touch a path, and manifests are written through a
 * temporary file and a rename.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import type { DisplayInfo } from "../../src-shared/bridge-api";
import { toHtml } from "./export-html";
import { toMarkdown } from "./export-markdown";
import {
  RECORDING_FORMAT,
  RECORDING_VERSION,
  RecordingId,
  RecordingManifest,
  RecordingSettings,
  StepImage,
} from "./recording-manifest";
import { toReplayPlan } from "./replay-plan";

export type RecordingSummary = {
  id: string;
  title: string;
  createdAt?: string;
  endedAt?: string;
  /** "damaged": the folder's manifest is missing or does not parse; it can still be deleted. */
  status: "recording" | "complete" | "damaged";
  stepCount: number;
  folder: string;
};

export type ExportPaths = {
  folder: string;
  markdown: string;
  html: string;
  /** Absent for a recording with no step: there is nothing to replay. */
  plan?: string;
};

export const EXPORT_FILES = { markdown: "tutorial.md", html: "tutorial.html", plan: "plan.json" } as const;
const MANIFEST = "manifest.json";

const pad = (n: number) => String(n).padStart(2, "0");

/** A new id: the local start time (sortable, readable) and a random suffix. */
export function newRecordingId(now = new Date()): string {
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

async function writeAtomically(path: string, data: string | Buffer): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, data, { mode: 0o600 });
  await rename(temporary, path);
}

export class RecordingsLibrary {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The folder of a recording; throws for anything that is not an id (no path can escape the root). */
  folder(id: string): string {
    const parsed = RecordingId.safeParse(id);
    if (!parsed.success) throw new Error(`not a recording id: ${JSON.stringify(id)}`);
    const folder = join(this.root, parsed.data);
    if (!folder.startsWith(this.root + sep)) throw new Error(`not a recording id: ${JSON.stringify(id)}`);
    return folder;
  }

  async create(init: {
    title: string;
    display: DisplayInfo;
    settings?: Partial<RecordingSettings>;
    now?: Date;
  }): Promise<RecordingManifest> {
    const now = init.now ?? new Date();
    const id = newRecordingId(now);
    const manifest = RecordingManifest.parse({
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      id,
      title: init.title.trim().slice(0, 200) || "Untitled recording",
      createdAt: now.toISOString(),
      status: "recording",
      display: init.display,
      settings: RecordingSettings.parse(init.settings ?? {}),
      steps: [],
    });
    await mkdir(join(this.folder(id), "images"), { recursive: true, mode: 0o700 });
    await this.save(manifest);
    return manifest;
  }

  async save(manifest: RecordingManifest): Promise<void> {
    const valid = RecordingManifest.parse(manifest);
    await writeAtomically(join(this.folder(valid.id), MANIFEST), `${JSON.stringify(valid, null, 2)}\n`);
  }

  async get(id: string): Promise<RecordingManifest> {
    const text = await readFile(join(this.folder(id), MANIFEST), "utf8");
    const manifest = RecordingManifest.parse(JSON.parse(text));
    if (manifest.id !== id) throw new Error(`the manifest in ${id} names another recording (${manifest.id})`);
    return manifest;
  }

  async writeImage(id: string, file: string, png: Buffer): Promise<void> {
    await writeAtomically(this.imagePath(id, file), png);
  }

  async readImage(id: string, file: string): Promise<Buffer> {
    return readFile(this.imagePath(id, file));
  }

  imagePath(id: string, file: string): string {
    const checked = StepImage.shape.file.safeParse(file);
    if (!checked.success) throw new Error(`not a step image: ${JSON.stringify(file)}`);
    return join(this.folder(id), checked.data);
  }

  /** Every recording, newest first; folders whose manifest cannot be read are listed as damaged. */
  async list(): Promise<RecordingSummary[]> {
    let names: string[];
    try {
      names = (await readdir(this.root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const summaries: RecordingSummary[] = [];
    for (const name of names) {
      if (!RecordingId.safeParse(name).success) continue;
      const folder = this.folder(name);
      try {
        const m = await this.get(name);
        summaries.push({
          id: m.id,
          title: m.title,
          createdAt: m.createdAt,
          ...(m.endedAt ? { endedAt: m.endedAt } : {}),
          status: m.status,
          stepCount: m.steps.length,
          folder,
        });
      } catch {
        summaries.push({ id: name, title: name, status: "damaged", stepCount: 0, folder });
      }
    }
    return summaries.sort((a, b) => (b.createdAt ?? b.id).localeCompare(a.createdAt ?? a.id));
  }

  async rename(id: string, title: string): Promise<RecordingManifest> {
    const trimmed = title.trim();
    if (!trimmed) throw new Error("a recording needs a title");
    const manifest = { ...(await this.get(id)), title: trimmed.slice(0, 200) };
    await this.save(manifest);
    // The exports carry the title; a finished recording's are written again.
    if (manifest.status === "complete") await this.export(id);
    return manifest;
  }

  async delete(id: string): Promise<void> {
    await rm(this.folder(id), { recursive: true, force: true });
  }

  /** Writes the Markdown, HTML and replay-plan exports into the recording's folder. */
  async export(id: string): Promise<ExportPaths> {
    const manifest = await this.get(id);
    const folder = this.folder(id);
    const images = new Map<string, Buffer>();
    for (const step of manifest.steps) {
      if (step.image) images.set(step.image.file, await this.readImage(id, step.image.file));
    }
    const paths: ExportPaths = {
      folder,
      markdown: join(folder, EXPORT_FILES.markdown),
      html: join(folder, EXPORT_FILES.html),
    };
    await writeAtomically(paths.markdown, toMarkdown(manifest));
    await writeAtomically(paths.html, toHtml(manifest, images));
    const planPath = join(folder, EXPORT_FILES.plan);
    if (manifest.steps.length > 0) {
      await writeAtomically(planPath, `${JSON.stringify(toReplayPlan(manifest), null, 2)}\n`);
      paths.plan = planPath;
    } else {
      await rm(planPath, { force: true });
    }
    return paths;
  }
}
