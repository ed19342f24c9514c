import type { KeyboardEvent } from "react";
import { useAssistant } from "../store";

/** Enter submits; Shift+Enter adds a line. */
export function InstructionBox() {
  const instruction = useAssistant((s) => s.instruction);
  const setInstruction = useAssistant((s) => s.setInstruction);
  const submit = useAssistant((s) => s.submit);
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  };
  return (
    <textarea
      className="instruction"
      aria-label="Instruction"
      placeholder="What should I do? (Enter to look at the screen)"
      rows={2}
      autoFocus
      value={instruction}
      onChange={(event) => setInstruction(event.target.value)}
      onKeyDown={onKeyDown}
    />
  );
}
