import type { RecordingManifest } from "./recording-manifest";
import { escapeMarkdown } from "./step-text";

/** A sentence without its Markdown: for alt text and titles. */
export function plainSentence(sentence: string): string {
  return sentence.replace(/\*\*/g, "").replace(/\\(.)/g, "$1");
}

const when = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");

/**
 * The tutorial as Markdown: a numbered list of the steps' sentences, each with
 * its screenshot from the recording's `images/` folder (paths relative to the
 * folder the file is written in, which is the recording's own).
 */
export function toMarkdown(manifest: RecordingManifest): string {
  const lines = [
    `# ${escapeMarkdown(manifest.title)}`,
    "",
    `Recorded ${when(manifest.createdAt)} · ${manifest.steps.length} step${manifest.steps.length === 1 ? "" : "s"}`,
    "",
  ];
  let window: string | undefined;
  for (const step of manifest.steps) {
    lines.push(`${step.index}. ${step.sentence}`);
    if (step.windowTitle && step.windowTitle !== window) {
      lines.push("", `   *In ${escapeMarkdown(step.windowTitle)}*`);
      window = step.windowTitle;
    }
    if (step.image) {
      const alt = escapeMarkdown(`Step ${step.index}: ${plainSentence(step.sentence)}`);
      lines.push("", `   ![${alt}](${step.image.file})`);
    }
    lines.push("");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
