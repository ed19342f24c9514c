/** "0:07", "12:34", "1:02:03": time since the recording started. */
export function elapsedText(startedAt: string, now: number): string {
  const started = Date.parse(startedAt);
  const seconds = Number.isFinite(started) ? Math.max(0, Math.floor((now - started) / 1000)) : 0;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

export function stepCountText(count: number): string {
  return count === 1 ? "1 step" : `${count} steps`;
}

/** The recording's start in the user's locale; "unknown date" for a damaged one. */
export function recordingDate(iso: string | undefined, locale?: string): string {
  if (!iso) return "unknown date";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "unknown date";
  return date.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

/** An Electron accelerator as people read it: "CommandOrControl+Shift+R" → "Ctrl+Shift+R" (⌘ on a Mac). */
export function acceleratorText(accelerator: string, mac = false): string {
  return accelerator
    .split("+")
    .map((part) => (/^(CommandOrControl|CmdOrCtrl)$/i.test(part) ? (mac ? "⌘" : "Ctrl") : part))
    .join("+");
}
