/**
 * Instruction history: what the user typed before, recalled with Up/Down like a
 * shell. Pure functions over a small state so the store and the tests share them.
 */
import { z } from "zod";

export const HISTORY_KEY = "sightline-history";
export const HISTORY_LIMIT = 50;

export type HistoryNav = {
  /** Oldest first. */
  entries: readonly string[];
  /** Index into entries while recalling; null while editing a fresh line. */
  cursor: number | null;
  /** What was in the box before the first Up, restored after the last Down. */
  draft: string;
};

export type Recall = { nav: HistoryNav; text: string };

export type KeyValueStorage = Pick<Storage, "getItem" | "setItem">;

const Stored = z.array(z.string());

/** A corrupt or foreign value in storage must not break the overlay, so it reads as empty. */
export function loadHistory(storage: KeyValueStorage): string[] {
  try {
    const parsed = Stored.safeParse(JSON.parse(storage.getItem(HISTORY_KEY) ?? "[]"));
    return parsed.success ? parsed.data.slice(-HISTORY_LIMIT) : [];
  } catch {
    return [];
  }
}

export function saveHistory(storage: KeyValueStorage, entries: readonly string[]): void {
  try {
    storage.setItem(HISTORY_KEY, JSON.stringify(entries));
  } catch {
    // A full or disabled storage loses the history, not the run.
  }
}

/** Adds an instruction as the newest entry; a repeat moves to the end instead of appearing twice. */
export function addEntry(entries: readonly string[], text: string, limit = HISTORY_LIMIT): string[] {
  const trimmed = text.trim();
  if (!trimmed) return [...entries];
  return [...entries.filter((entry) => entry !== trimmed), trimmed].slice(-limit);
}

export function recallOlder(nav: HistoryNav, current: string): Recall | undefined {
  if (nav.entries.length === 0 || nav.cursor === 0) return undefined;
  const cursor = nav.cursor === null ? nav.entries.length - 1 : nav.cursor - 1;
  const draft = nav.cursor === null ? current : nav.draft;
  return { nav: { ...nav, cursor, draft }, text: nav.entries[cursor] ?? "" };
}

export function recallNewer(nav: HistoryNav): Recall | undefined {
  if (nav.cursor === null) return undefined;
  if (nav.cursor >= nav.entries.length - 1) return { nav: { ...nav, cursor: null, draft: "" }, text: nav.draft };
  const cursor = nav.cursor + 1;
  return { nav: { ...nav, cursor }, text: nav.entries[cursor] ?? "" };
}

/**
 * Up recalls only from the first line and Down only from the last, so the
 * arrows still move the caret inside a multi-line instruction.
 */
export function caretOnFirstLine(text: string, caret: number): boolean {
  return !text.slice(0, caret).includes("\n");
}

export function caretOnLastLine(text: string, caret: number): boolean {
  return !text.slice(caret).includes("\n");
}
