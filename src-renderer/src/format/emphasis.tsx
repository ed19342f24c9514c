import { Fragment, type ReactNode } from "react";

/** Plan descriptions mark the thing to look for as **bold** ("Click **Save**"); show that, nothing more of Markdown. */
export function withEmphasis(text: string): ReactNode {
  const parts = text.split("**");
  // An unmatched ** stays literal text rather than bolding the rest of the line.
  if (parts.length % 2 === 0) return text;
  return parts.map((part, i) =>
    // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed string never reorder.
    i % 2 === 1 ? <strong key={i}>{part}</strong> : <Fragment key={i}>{part}</Fragment>,
  );
}
