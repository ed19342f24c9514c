import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Action } from "../../src-shared/actions";

export type AuditEntry = {
  time: string;
  action: Action;
  /** Where it landed, in desktop physical pixels. */
  points: Array<{ x: number; y: number }>;
  displayId: string | undefined;
  /** sha256 of the screenshot the plan was made on. */
  screenshotSha256: string | undefined;
  outcome: "done" | "failed" | "stopped";
  detail?: string;
};

/**
 * What the audit log keeps of an action: everything but typed text, which is
 * replaced by its length (a typed password or message must not sit in a log
 * file in clear; the log proves that typing happened, where, and how much).
 */
export function auditedAction(action: Action): Action {
  if (action.type !== "type") return action;
  return { ...action, text: `[${[...action.text].length} characters]` };
}

/** One JSON object per line, appended as each action finishes, so a crash loses at most the line in flight. */
export class AuditLog {
  private ready: Promise<unknown> | undefined;

  constructor(readonly path: string) {}

  async append(entry: AuditEntry): Promise<void> {
    this.ready ??= mkdir(dirname(this.path), { recursive: true });
    await this.ready;
    const line = JSON.stringify({ ...entry, action: auditedAction(entry.action) });
    await appendFile(this.path, `${line}\n`, { mode: 0o600 });
  }
}
