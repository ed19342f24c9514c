import { hostShortText, hostText } from "../format/status-text";
import { useApp } from "../state/hooks";

/** Title, the model profile in use, the host's state and the ways into Record, Models, the VRAM panel and settings. */
export function OverlayHeader() {
  const host = useApp((s) => s.host);
  const profile = useApp((s) => s.settings?.profile);
  const planner = useApp((s) => s.run?.planner);
  const view = useApp((s) => s.view);
  const showView = useApp((s) => s.showView);
  const recorder = useApp((s) => s.recorder);
  return (
    <header className="overlay-header">
      <h1>Sightline</h1>
      <span className="chip" data-testid="profile" title={planner ? `Planner: ${planner}` : undefined}>
        Model profile: <strong>{profile ?? "…"}</strong>
      </span>
      <span data-testid="host-status" className={`host host-${host.phase}`} title={hostText(host)}>
        {hostShortText(host)}
      </span>
      <button
        type="button"
        className={recorder.phase === "idle" ? "ghost" : "ghost recording-on"}
        aria-pressed={view === "record"}
        aria-keyshortcuts="Alt+R"
        aria-label={recorder.phase === "idle" ? undefined : `Record (recording now, ${recorder.steps} steps)`}
        title="Record a tutorial, and the recordings library (Alt+R)"
        onClick={() => showView(view === "record" ? "run" : "record")}
        data-testid="record-button"
      >
        {recorder.phase === "idle" ? null : <span className="rec-dot" aria-hidden="true" />}
        {view === "record" ? "Close Record" : "Record"}
      </button>
      <button
        type="button"
        className="ghost"
        aria-pressed={view === "models"}
        title="The catalog's models: which are present, and pull the missing ones"
        onClick={() => showView(view === "models" ? "run" : "models")}
      >
        {view === "models" ? "Close Models" : "Models"}
      </button>
      <button
        type="button"
        className="ghost"
        aria-pressed={view === "vram"}
        aria-keyshortcuts="Alt+V"
        title="GPU memory, utilization and whether the model profile fits (Alt+V)"
        onClick={() => showView(view === "vram" ? "run" : "vram")}
      >
        {view === "vram" ? "Close VRAM" : "VRAM"}
      </button>
      <button
        type="button"
        className="ghost"
        aria-pressed={view === "settings"}
        onClick={() => showView(view === "settings" ? "run" : "settings")}
      >
        {view === "settings" ? "Close settings" : "Settings"}
      </button>
    </header>
  );
}
