import { useApp } from "../state/hooks";

/** While the host is away nothing can be observed or planned; say so, and that it comes back by itself. */
export function HostBanner() {
  const host = useApp((s) => s.host);
  if (host.phase === "ready" || host.phase === "stopped") return null;
  const text =
    host.phase === "restarting"
      ? `The inference host stopped (${host.reason}). Restarting… (in ${Math.max(0, Math.round(host.inMs / 100) / 10)} s)`
      : host.phase === "starting"
        ? "The inference host is starting…"
        : `The inference host could not start: ${host.reason}. Restart Sightline; if it keeps failing, run \`npm install\` again.`;
  return (
    <output className={`banner banner-${host.phase}`} data-testid="host-banner" data-phase={host.phase}>
      {text}
    </output>
  );
}
