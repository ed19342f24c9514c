import { useRef, useState } from "react";

/** A command the user should run, in a read-only field with a Copy button; selecting it is the fallback where the clipboard is refused. */
export function CopyableCommand({ command }: { command: string }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"no" | "yes" | "select">("no");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(command);
      setCopied("yes");
    } catch {
      field.current?.select();
      setCopied("select");
    }
  };
  return (
    <div className="command">
      <label htmlFor="fix-command">Run this to fix it:</label>
      <div className="command-row">
        <input
          id="fix-command"
          ref={field}
          readOnly
          value={command}
          data-testid="fix-command"
          onFocus={(event) => event.currentTarget.select()}
          spellCheck={false}
        />
        <button type="button" onClick={() => void copy()}>
          Copy command
        </button>
      </div>
      <output className="muted">
        {copied === "yes" ? "Copied." : copied === "select" ? "Selected: press Ctrl+C to copy." : ""}
      </output>
    </div>
  );
}
