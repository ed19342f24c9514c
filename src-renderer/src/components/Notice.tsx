import { useApp } from "../state/hooks";

export function Notice() {
  const notice = useApp((s) => s.notice);
  const dismiss = useApp((s) => s.dismissNotice);
  if (!notice) return null;
  return (
    <output className="banner">
      {notice}{" "}
      <button type="button" className="ghost" onClick={dismiss}>
        Dismiss
      </button>
    </output>
  );
}
