import { describe, expect, it } from "vitest";
import { foldedWords, lettersAndDigits } from "../../src-main/util/text-keys";

describe("text keys", () => {
  it("foldedWords keeps words apart and folds case, width and white space", () => {
    expect(foldedWords("  Saved\tto  ＤＲＡＦＴＳ\n")).toBe("saved to drafts");
    expect(foldedWords("Save as…")).not.toBe(foldedWords("Saveas"));
  });

  it("lettersAndDigits drops everything OCR tends to get wrong between letters", () => {
    expect(lettersAndDigits("Send me updates!")).toBe("sendmeupdates");
    expect(lettersAndDigits("4111 1111-1111 1111")).toBe("4111111111111111");
    expect(lettersAndDigits("Größe: ＸＬ")).toBe("größexl");
  });
});
