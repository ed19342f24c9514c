/**
 * The two ways the app compares on-screen text. They differ on purpose: an
 * expectation is matched word by word, so words must stay apart; an element
 * found again, or a secret found in a screenshot, is matched by its letters,
 * because OCR splits, joins and punctuates words unpredictably.
 */

/** Case- and width-folded, white space collapsed to single spaces: words stay apart. */
export function foldedWords(text: string): string {
  return text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

/** Case- and width-folded letters and digits only: what survives OCR's spacing and punctuation quirks. */
export function lettersAndDigits(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "");
}
