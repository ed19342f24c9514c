/**
 * From the global hook's key codes to what was typed. The hook reports
 * physical keys, not characters, so the characters come from a layout table:
 * US QWERTY here. Keys the table lacks (a dead key, an IME's composition,
 * another layout's letters) are reported as unknown, and the type step that
 * contains them says its text is incomplete instead of guessing.
 */
import { type HookKeyName, HOOK_KEY as K } from "./hook-keycodes";

type KeyCode = number;

const US_CHARACTERS: ReadonlyArray<readonly [KeyCode, string, string]> = [
  [K.Space, " ", " "],
  [K.Digit1, "1", "!"],
  [K.Digit2, "2", "@"],
  [K.Digit3, "3", "#"],
  [K.Digit4, "4", "$"],
  [K.Digit5, "5", "%"],
  [K.Digit6, "6", "^"],
  [K.Digit7, "7", "&"],
  [K.Digit8, "8", "*"],
  [K.Digit9, "9", "("],
  [K.Digit0, "0", ")"],
  [K.Minus, "-", "_"],
  [K.Equal, "=", "+"],
  [K.BracketLeft, "[", "{"],
  [K.BracketRight, "]", "}"],
  [K.Backslash, "\\", "|"],
  [K.Semicolon, ";", ":"],
  [K.Quote, "'", '"'],
  [K.Backquote, "`", "~"],
  [K.Comma, ",", "<"],
  [K.Period, ".", ">"],
  [K.Slash, "/", "?"],
  [K.Numpad0, "0", "0"],
  [K.Numpad1, "1", "1"],
  [K.Numpad2, "2", "2"],
  [K.Numpad3, "3", "3"],
  [K.Numpad4, "4", "4"],
  [K.Numpad5, "5", "5"],
  [K.Numpad6, "6", "6"],
  [K.Numpad7, "7", "7"],
  [K.Numpad8, "8", "8"],
  [K.Numpad9, "9", "9"],
  [K.NumpadMultiply, "*", "*"],
  [K.NumpadAdd, "+", "+"],
  [K.NumpadSubtract, "-", "-"],
  [K.NumpadDecimal, ".", "."],
  [K.NumpadDivide, "/", "/"],
];

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("") as HookKeyName[];

const characters = new Map<KeyCode, readonly [string, string]>(US_CHARACTERS.map(([code, a, b]) => [code, [a, b]]));
const letterCodes = new Map<KeyCode, string>(LETTERS.map((letter) => [K[letter], letter]));

/** The character a key types on the US layout, or undefined for a key that types none. */
export function characterOf(keycode: KeyCode, shift: boolean, capsLock = false): string | undefined {
  const letter = letterCodes.get(keycode);
  if (letter) return shift !== capsLock ? letter : letter.toLowerCase();
  const pair = characters.get(keycode);
  return pair ? pair[shift ? 1 : 0] : undefined;
}

/** Keys that change modifiers or lock state: they are part of other keys' presses, never steps of their own. */
const MODIFIERS = new Set<KeyCode>([
  K.Shift,
  K.ShiftRight,
  K.Ctrl,
  K.CtrlRight,
  K.Alt,
  K.AltRight,
  K.Meta,
  K.MetaRight,
  K.CapsLock,
  K.NumLock,
  K.ScrollLock,
]);

export const isModifierKey = (keycode: KeyCode): boolean => MODIFIERS.has(keycode);
export const isCapsLock = (keycode: KeyCode): boolean => keycode === K.CapsLock;
export const isBackspace = (keycode: KeyCode): boolean => keycode === K.Backspace;
/** Keys that move the focus to another field. */
export const movesFocus = (keycode: KeyCode): boolean => keycode === K.Tab;

/** Hook key code → the executor's key name (nut-js's Key enum, as plans write them) and a label for people. */
const NAMED_KEYS: ReadonlyArray<readonly [KeyCode, string, string]> = [
  [K.Enter, "Enter", "Enter"],
  [K.NumpadEnter, "Enter", "Enter"],
  [K.Tab, "Tab", "Tab"],
  [K.Escape, "Escape", "Esc"],
  [K.Backspace, "Backspace", "Backspace"],
  [K.Delete, "Delete", "Delete"],
  [K.Insert, "Insert", "Insert"],
  [K.Home, "Home", "Home"],
  [K.End, "End", "End"],
  [K.PageUp, "PageUp", "Page Up"],
  [K.PageDown, "PageDown", "Page Down"],
  [K.ArrowUp, "Up", "↑"],
  [K.ArrowDown, "Down", "↓"],
  [K.ArrowLeft, "Left", "←"],
  [K.ArrowRight, "Right", "→"],
  [K.Space, "Space", "Space"],
  [K.Minus, "Minus", "-"],
  [K.Equal, "Equal", "="],
  [K.BracketLeft, "LeftBracket", "["],
  [K.BracketRight, "RightBracket", "]"],
  [K.Backslash, "Backslash", "\\"],
  [K.Semicolon, "Semicolon", ";"],
  [K.Quote, "Quote", "'"],
  [K.Backquote, "Grave", "`"],
  [K.Comma, "Comma", ","],
  [K.Period, "Period", "."],
  [K.Slash, "Slash", "/"],
  [K.PrintScreen, "Print", "Print Screen"],
  ...Array.from({ length: 10 }, (_, d) => [K[`Digit${d}` as HookKeyName], `Num${d}`, String(d)] as const),
  ...Array.from({ length: 24 }, (_, i) => [K[`F${i + 1}` as HookKeyName], `F${i + 1}`, `F${i + 1}`] as const),
];

const named = new Map<KeyCode, { name: string; label: string }>(
  NAMED_KEYS.map(([code, name, label]) => [code, { name, label }]),
);

export type KeyName = { name: string; label: string };

/** The key's executor name and label, or undefined for a key the executor cannot press. */
export function keyNameOf(keycode: KeyCode): KeyName | undefined {
  const letter = letterCodes.get(keycode);
  if (letter) return { name: letter, label: letter };
  return named.get(keycode);
}

export const MODIFIER_KEY_NAMES = {
  ctrl: { name: "LeftControl", label: "Ctrl" },
  alt: { name: "LeftAlt", label: "Alt" },
  shift: { name: "LeftShift", label: "Shift" },
  meta: { name: "LeftSuper", label: "Super" },
} as const;
