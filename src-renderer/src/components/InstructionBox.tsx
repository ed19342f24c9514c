import { type KeyboardEvent, useLayoutEffect, useRef } from "react";
import { INSTRUCTION_ID } from "../focus";
import { caretOnFirstLine, caretOnLastLine } from "../state/history";
import { useApp } from "../state/hooks";
import { isActive } from "../state/run-logic";

/** Enter runs the instruction, Shift+Enter adds a line, Up/Down walk the history from the first/last line. */
export function InstructionBox() {
  const instruction = useApp((s) => s.instruction);
  const setInstruction = useApp((s) => s.setInstruction);
  const submit = useApp((s) => s.submitInstruction);
  const recallOlder = useApp((s) => s.recallOlder);
  const recallNewer = useApp((s) => s.recallNewer);
  const busy = useApp((s) => s.pending || isActive(s.run));
  const box = useRef<HTMLTextAreaElement>(null);
  const caretToEnd = useRef(false);

  // A recalled entry is read from its end, like a shell's history.
  useLayoutEffect(() => {
    if (!caretToEnd.current || !box.current) return;
    caretToEnd.current = false;
    box.current.setSelectionRange(instruction.length, instruction.length);
  }, [instruction]);

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing || event.altKey || event.ctrlKey || event.metaKey) return;
    const { selectionStart, selectionEnd, value } = event.currentTarget;
    const collapsed = selectionStart === selectionEnd;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void submit();
    } else if (event.key === "ArrowUp" && collapsed && caretOnFirstLine(value, selectionStart)) {
      if (recallOlder()) {
        event.preventDefault();
        caretToEnd.current = true;
      }
    } else if (event.key === "ArrowDown" && collapsed && caretOnLastLine(value, selectionStart)) {
      if (recallNewer()) {
        event.preventDefault();
        caretToEnd.current = true;
      }
    }
  };

  return (
    <div className="instruction-row">
      <textarea
        id={INSTRUCTION_ID}
        ref={box}
        className="instruction"
        aria-label="Instruction"
        aria-describedby="instruction-hint"
        placeholder="What should I do?"
        rows={2}
        autoFocus
        value={instruction}
        onChange={(event) => setInstruction(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button
        type="button"
        className="primary"
        onClick={() => void submit()}
        disabled={busy || !instruction.trim()}
        aria-keyshortcuts="Enter"
      >
        Run
      </button>
      <p id="instruction-hint" className="hint">
        <kbd>Enter</kbd> runs · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line · <kbd>↑</kbd>/<kbd>↓</kbd> history ·{" "}
        <kbd>Esc</kbd> {busy ? "cancels the run" : "closes"}
      </p>
    </div>
  );
}
