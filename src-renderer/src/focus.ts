export const INSTRUCTION_ID = "instruction";

/** Puts the caret back into the instruction box (after a dialog closes, a rephrase, the overlay showing). */
export function focusInstruction(): void {
  const box = document.getElementById(INSTRUCTION_ID);
  if (!(box instanceof HTMLTextAreaElement)) return;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}
