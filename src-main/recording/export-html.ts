import { plainSentence } from "./export-markdown";
import type { RecordingManifest } from "./recording-manifest";
import { inlineMarkdownToHtml } from "./step-text";

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const STYLE = `
body { font: 16px/1.5 system-ui, "DejaVu Sans", sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1f; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.meta { color: #666; margin-top: 0; }
ol { padding-left: 1.6rem; }
li { margin: 0 0 2rem; }
li p { margin: .2rem 0 .6rem; font-size: 1.1rem; }
.window { color: #666; font-style: italic; font-size: .9rem; }
img { max-width: 100%; height: auto; border: 1px solid #ccc; border-radius: 4px; }
`;

/**
 * The tutorial as one HTML file that needs nothing else: the screenshots are
 * inlined as data URLs, every recorded text is escaped, and the page's
 * content security policy allows no script and no outside resource.
 */
export function toHtml(manifest: RecordingManifest, images: ReadonlyMap<string, Buffer>): string {
  let window: string | undefined;
  const items = manifest.steps.map((step) => {
    const parts = [`<p>${inlineMarkdownToHtml(step.sentence)}</p>`];
    // The window is named when it changes, as in the Markdown.
    if (step.windowTitle && step.windowTitle !== window) {
      parts.push(`<div class="window">In ${escapeHtml(step.windowTitle)}</div>`);
      window = step.windowTitle;
    }
    const png = step.image ? images.get(step.image.file) : undefined;
    if (step.image && png) {
      const alt = escapeHtml(`Step ${step.index}: ${plainSentence(step.sentence)}`);
      parts.push(
        `<img alt="${alt}" width="${step.image.width}" height="${step.image.height}" src="data:image/png;base64,${png.toString("base64")}">`,
      );
    }
    return `<li>${parts.join("\n")}</li>`;
  });
  const count = `${manifest.steps.length} step${manifest.steps.length === 1 ? "" : "s"}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(manifest.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(manifest.title)}</h1>
<p class="meta">Recorded ${escapeHtml(manifest.createdAt.slice(0, 10))} · ${count}</p>
<ol>
${items.join("\n")}
</ol>
</body>
</html>
`;
}
