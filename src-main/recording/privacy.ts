/**
 * What a recording may keep. Pure rules, applied before anything reaches the
 * disk: typed text in password-like fields is never kept, a setting masks all
 * typed text, and screenshots lose the regions whose text looks like an e-mail
 * address, a card number, or text the user typed that was not kept.
 */
import type { ScreenBox, ScreenElement } from "../../src-shared/bridge-api";
import { lettersAndDigits } from "../util/text-keys";
import type { ElementDescription } from "./element-description";
import { textSimilarity } from "./grounding";

export type PrivacySettings = {
  /** Keep no typed text at all: type steps say that something was typed, not what. */
  maskAllTyping: boolean;
  /**
   * Typing into a field no click identified (reached with Tab, say) is masked:
   * "user name, Tab, password" is the commonest way to type a password.
   */
  maskUnidentifiedFields: boolean;
  redactEmails: boolean;
  redactCardNumbers: boolean;
};

export const DEFAULT_PRIVACY: PrivacySettings = {
  maskAllTyping: false,
  maskUnidentifiedFields: true,
  redactEmails: true,
  redactCardNumbers: true,
};

/** Words that mark a secret field. The observer often drops spaces ("Securitycode"), so most have no word boundary. */
const SECRET_WORDS =
  /pass(word|wort|code|phrase)|mot[- ]?de[- ]?passe|contrase(ñ|n)a|secret|one[- ]?time[- ]?(code|pass)|security[- ]?code|api[- ]?key|token|private[- ]?key/i;
const SECRET_SHORT = /\b(pin|otp|2fa|cvv|cvc|cvv2|tan)\b/i;

/** True when a field's label (or its own text) says it holds a secret. */
export function looksSecret(text: string | undefined): boolean {
  if (!text) return false;
  return SECRET_WORDS.test(text) || SECRET_SHORT.test(text);
}

export type TypedTextVerdict =
  | { kind: "keep" }
  | { kind: "secret" }
  | { kind: "masked"; reason: "settings" | "unidentified-field" | "not-shown" };

/**
 * Text that looks like a password whatever the field: one word of 8 or more
 * characters mixing at least three of lower case, upper case, digits and
 * symbols. A second line of defence for when no label said "password"
 * (the observer missed it, or the label was out of the picture).
 */
export function looksLikePassword(text: string): boolean {
  if (text.length < 8 || /\s/.test(text)) return false;
  // Dashes, underscores and dots join ordinary words and numbers ("report-2024"); other symbols count.
  const classes = [/\p{Ll}/u, /\p{Lu}/u, /\p{N}/u, /[^\p{L}\p{N}._-]/u].filter((c) => c.test(text)).length;
  return classes >= 3;
}

/**
 * Whether the text typed into a field may be stored. `field` is the element a
 * click put the focus into, when one did; `fieldIdentified` false means the
 * focus came some other way and the field is unknown. `typed` is judged too
 * (looksLikePassword), and is never stored by this function.
 */
export function typedTextVerdict(
  field: Pick<ElementDescription, "kind" | "text"> | undefined,
  fieldIdentified: boolean,
  settings: PrivacySettings,
  typed = "",
): TypedTextVerdict {
  if ((field && looksSecret(field.text)) || looksLikePassword(typed)) return { kind: "secret" };
  if (settings.maskAllTyping) return { kind: "masked", reason: "settings" };
  if (!fieldIdentified && settings.maskUnidentifiedFields) return { kind: "masked", reason: "unidentified-field" };
  return { kind: "keep" };
}

/** How near the field's point the typed text must show (physical pixels at scale 1). */
const SHOWN_NEAR_PX = 150;

/**
 * Whether `typed` shows on the screen in the field at `fieldPoint`, by the
 * observer's elements of a frame taken after the typing. A password field
 * shows dots, so text that does not show is not kept even when no label said
 * "password". The match forgives the observer (a caret read as a letter, a
 * dropped space) and a field too narrow for all of the text.
 */
export function typedTextShown(
  typed: string,
  elements: readonly ScreenElement[],
  fieldPoint: { x: number; y: number },
  scaleFactor = 1,
): boolean {
  const want = lettersAndDigits(typed);
  if (!want) return false;
  const near = SHOWN_NEAR_PX * scaleFactor;
  return elements.some((e) => {
    const dx = Math.max(e.box.x - fieldPoint.x, 0, fieldPoint.x - (e.box.x + e.box.width));
    const dy = Math.max(e.box.y - fieldPoint.y, 0, fieldPoint.y - (e.box.y + e.box.height));
    if (Math.hypot(dx, dy) > near) return false;
    const seen = lettersAndDigits(e.text);
    if (!seen) return false;
    // The element is (mostly) the typed text; "ada" inside "Adam Smith" is not it.
    if (seen.includes(want) && want.length >= seen.length / 2) return true;
    // Longer text than the field shows: a good part of it, in one piece.
    if (want.includes(seen) && seen.length >= Math.max(4, want.length / 2)) return true;
    return textSimilarity(seen, want) >= 0.8;
  });
}

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/u;
/** 13 to 19 digits, possibly grouped by spaces, dots or dashes. */
const CARD_CANDIDATE = /\d(?:[ .-]?\d){12,18}/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export const containsEmail = (text: string): boolean => EMAIL.test(text);

export function containsCardNumber(text: string): boolean {
  for (const match of text.matchAll(CARD_CANDIDATE)) {
    const digits = match[0].replace(/\D/g, "");
    if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) return true;
  }
  return false;
}

/** Why an element's text must not be seen in a saved screenshot, or undefined when it may. */
export function redactionReason(
  text: string,
  settings: Pick<PrivacySettings, "redactEmails" | "redactCardNumbers">,
  secrets: readonly string[] = [],
): "email" | "card-number" | "typed-text" | undefined {
  if (settings.redactEmails && containsEmail(text)) return "email";
  if (settings.redactCardNumbers && containsCardNumber(text)) return "card-number";
  const seen = lettersAndDigits(text);
  if (
    seen &&
    secrets.some((secret) => {
      const s = lettersAndDigits(secret);
      if (!s) return false;
      // The element shows the secret, or a good part of it (the observer may split a line).
      return seen.includes(s) || (s.includes(seen) && seen.length >= Math.max(4, s.length / 2));
    })
  ) {
    return "typed-text";
  }
  return undefined;
}

/** The boxes (desktop physical pixels) to blur in a screenshot whose observation found `elements`. */
export function redactionBoxes(
  elements: readonly ScreenElement[],
  settings: Pick<PrivacySettings, "redactEmails" | "redactCardNumbers">,
  secrets: readonly string[] = [],
): ScreenBox[] {
  return elements.filter((e) => redactionReason(e.text, settings, secrets) !== undefined).map((e) => e.box);
}

/** A line of text (a window title, say) with e-mail addresses and card numbers replaced. */
export function redactText(text: string, settings: Pick<PrivacySettings, "redactEmails" | "redactCardNumbers">) {
  let out = text;
  if (settings.redactEmails) out = out.replace(new RegExp(EMAIL.source, "gu"), "[e-mail]");
  if (settings.redactCardNumbers) {
    out = out.replace(CARD_CANDIDATE, (m) => {
      const digits = m.replace(/\D/g, "");
      return digits.length >= 13 && digits.length <= 19 && luhn(digits) ? "[card number]" : m;
    });
  }
  return out;
}
