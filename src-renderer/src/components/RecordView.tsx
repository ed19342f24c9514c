import { useEffect, useRef, useState } from "react";
import type { RecordingStepView, RecordingSummaryView } from "../../../src-shared/bridge-api";
import { withEmphasis } from "../format/emphasis";
import { acceleratorText, elapsedText, recordingDate, stepCountText } from "../format/recording";
import { overlayWindow } from "../overlay-window";
import { useApp } from "../state/hooks";
import { recordingImageKey } from "../state/recording-slice";

/** This page's window on the screen in physical pixels: the recorder leaves clicks on it out. */
function ownWindow() {
  const dpr = window.devicePixelRatio || 1;
  return {
    x: Math.round(window.screenX * dpr),
    y: Math.round(window.screenY * dpr),
    width: Math.round(window.outerWidth * dpr),
    height: Math.round(window.outerHeight * dpr),
  };
}

/** Record a tutorial (start/stop, what is being recorded) and the recordings library. */
export function RecordView() {
  const showView = useApp((s) => s.showView);
  const error = useApp((s) => s.recordingError);
  const dismiss = useApp((s) => s.dismissRecordingError);
  const opened = useApp((s) => s.opened);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);

  return (
    <section className="record" aria-labelledby="record-heading" data-testid="record-view">
      <div className="vram-head">
        <h2 id="record-heading" ref={heading} tabIndex={-1}>
          Tutorial recording
        </h2>
        <button
          type="button"
          className="ghost"
          onClick={() => showView("run")}
          aria-keyshortcuts="Escape"
          aria-label="Close the recording view"
        >
          Close <kbd>Esc</kbd>
        </button>
      </div>
      {error ? (
        <div role="alert" className="banner banner-failed" data-testid="recording-error">
          <span>{error.message}</span>{" "}
          <button type="button" className="ghost" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      ) : null}
      <Recorder />
      {opened ? <OpenedRecording /> : <Library />}
    </section>
  );
}

function Recorder() {
  const recorder = useApp((s) => s.recorder);
  const liveSteps = useApp((s) => s.liveSteps);
  const problems = useApp((s) => s.recordingProblems);
  const busy = useApp((s) => s.recordingBusy);
  const start = useApp((s) => s.startRecording);
  const stop = useApp((s) => s.stopRecording);
  const lastExports = useApp((s) => s.lastExports);
  const hotkey = useApp((s) => s.settings?.hotkeys.record);
  const [title, setTitle] = useState("");
  const [now, setNow] = useState(() => Date.now());
  const recording = recorder.phase !== "idle";

  useEffect(() => {
    if (!recording) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [recording]);

  return (
    <div className="recorder" data-testid="recorder" data-phase={recorder.phase}>
      {recorder.phase === "idle" ? (
        <form
          className="recorder-start"
          onSubmit={(event) => {
            event.preventDefault();
            const trimmed = title.trim();
            void start({ ...(trimmed ? { title: trimmed } : {}), ownWindow: ownWindow() }).then(() => setTitle(""));
          }}
        >
          <label htmlFor="recording-title">Title</label>
          <input
            id="recording-title"
            value={title}
            maxLength={200}
            placeholder="What are you showing? (optional)"
            onChange={(event) => setTitle(event.target.value)}
          />
          <button type="submit" className="primary" disabled={busy} aria-keyshortcuts={hotkey}>
            Start recording
          </button>
          {hotkey && overlayWindow() ? (
            <span className="muted">or press {acceleratorText(hotkey)} anywhere</span>
          ) : null}
        </form>
      ) : (
        <div className="recorder-live">
          <output className="recording-indicator" aria-live="polite" data-testid="recording-indicator">
            <span className="rec-dot" aria-hidden="true" />
            <strong>{recorder.phase === "finishing" ? "Finishing" : "Recording"}</strong> “{recorder.title}” ·{" "}
            <span data-testid="recording-elapsed">{elapsedText(recorder.startedAt, now)}</span> ·{" "}
            <span data-testid="recording-step-count">{stepCountText(recorder.steps)}</span>
            {recorder.pending > 0 ? <span className="muted"> ({recorder.pending} being looked at)</span> : null}
          </output>
          <button
            type="button"
            className="danger-outline"
            disabled={busy || recorder.phase !== "recording"}
            onClick={() => void stop()}
            aria-keyshortcuts={hotkey}
          >
            Stop recording
          </button>
        </div>
      )}
      {problems.length > 0 ? (
        <ul className="banner banner-failed recording-problems" aria-label="Problems while recording">
          {problems.map((p, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the list only grows; the same message can come twice
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
      {liveSteps.length > 0 ? (
        <ol className="recorded-steps" aria-label={recording ? "Steps recorded so far" : "Steps just recorded"}>
          {liveSteps.map((step) => (
            <li key={step.index} data-testid="live-step">
              {withEmphasis(step.sentence)}
            </li>
          ))}
        </ol>
      ) : recording ? (
        <p className="muted">Do the task now: each click, drag, scroll and typed text becomes a step.</p>
      ) : null}
      {lastExports && !recording ? (
        <p className="muted" data-testid="last-exports">
          Saved to <code>{lastExports.folder}</code>
        </p>
      ) : null}
    </div>
  );
}

function Library() {
  const recordings = useApp((s) => s.recordings);
  if (!recordings) return <p className="muted">Loading the recordings…</p>;
  return (
    <div className="library">
      <h3 id="library-heading">Recordings</h3>
      {recordings.length === 0 ? (
        <p className="muted">No recordings yet.</p>
      ) : (
        <ul className="library-list" aria-labelledby="library-heading">
          {recordings.map((r) => (
            <LibraryItem key={r.id} recording={r} />
          ))}
        </ul>
      )}
    </div>
  );
}

function LibraryItem({ recording }: { recording: RecordingSummaryView }) {
  const rename = useApp((s) => s.renameRecording);
  const remove = useApp((s) => s.deleteRecording);
  const exportAgain = useApp((s) => s.exportRecording);
  const openFolder = useApp((s) => s.openRecordingFolder);
  const open = useApp((s) => s.openRecording);
  const replay = useApp((s) => s.replayRecording);
  const busy = useApp((s) => s.recordingBusy);
  const recorder = useApp((s) => s.recorder);
  const shown = useApp((s) => s.shownFolder);
  const exported = useApp((s) => s.lastExports);
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [draft, setDraft] = useState(recording.title);
  const beingRecorded = recorder.phase !== "idle" && recorder.id === recording.id;
  const usable = recording.status === "complete" && !beingRecorded;
  const name = recording.title;

  return (
    <li className="library-item" data-testid="recording-item" data-id={recording.id}>
      {editing ? (
        <form
          className="rename"
          onSubmit={(event) => {
            event.preventDefault();
            void rename(recording.id, draft).then((ok) => ok && setEditing(false));
          }}
        >
          <label className="sr-only" htmlFor={`rename-${recording.id}`}>
            New title for {name}
          </label>
          <input
            id={`rename-${recording.id}`}
            value={draft}
            maxLength={200}
            autoFocus
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === "Escape") {
                event.preventDefault();
                setEditing(false);
                setDraft(recording.title);
              }
            }}
          />
          <button type="submit" className="primary" disabled={busy || !draft.trim()}>
            Save
          </button>
          <button type="button" className="ghost" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <div className="library-row">
          <button
            type="button"
            className="link-like"
            onClick={() => void open(recording.id)}
            disabled={recording.status === "damaged"}
            aria-label={`Open the steps of ${name}`}
          >
            <strong data-testid="recording-title">{name}</strong>
          </button>
          <span className="muted" data-testid="recording-meta">
            {recordingDate(recording.createdAt)} · {stepCountText(recording.stepCount)}
            {recording.status !== "complete" ? ` · ${recording.status === "damaged" ? "damaged" : "unfinished"}` : ""}
          </span>
        </div>
      )}
      {confirmDelete ? (
        <fieldset className="confirm-delete">
          <legend>Delete “{name}” and its screenshots?</legend>
          <button
            type="button"
            className="danger-outline"
            disabled={busy}
            onClick={() => void remove(recording.id).then(() => setConfirmDelete(false))}
          >
            Delete
          </button>
          <button type="button" className="ghost" autoFocus onClick={() => setConfirmDelete(false)}>
            Keep
          </button>
        </fieldset>
      ) : editing ? null : (
        <div className="library-actions">
          <button
            type="button"
            className="ghost"
            disabled={!usable || busy}
            onClick={() => void replay(recording.id)}
            aria-label={`Replay ${name}`}
          >
            Replay
          </button>
          <button
            type="button"
            className="ghost"
            onClick={() => {
              setDraft(recording.title);
              setEditing(true);
            }}
            disabled={beingRecorded || recording.status === "damaged"}
            aria-label={`Rename ${name}`}
          >
            Rename
          </button>
          <button
            type="button"
            className="ghost"
            disabled={!usable || busy}
            onClick={() => void exportAgain(recording.id)}
            aria-label={`Export ${name} again`}
          >
            Export again
          </button>
          <button
            type="button"
            className="ghost"
            disabled={!usable || busy}
            onClick={() => void openFolder(recording.id)}
            aria-label={`Open the folder of ${name}`}
          >
            Open folder
          </button>
          <button
            type="button"
            className="ghost"
            disabled={beingRecorded || busy}
            onClick={() => setConfirmDelete(true)}
            aria-label={`Delete ${name}`}
          >
            Delete
          </button>
        </div>
      )}
      {shown?.id === recording.id ? (
        <p className="muted folder-path" data-testid="recording-folder">
          {shown.opened ? "Opened " : "Folder: "}
          <code>{shown.folder}</code>
        </p>
      ) : null}
      {exported?.id === recording.id && !beingRecorded ? (
        <p className="muted" data-testid="recording-exported">
          Exported <code>tutorial.md</code>, <code>tutorial.html</code>
          {exported.plan ? (
            <>
              {" "}
              and <code>plan.json</code>
            </>
          ) : null}
        </p>
      ) : null}
    </li>
  );
}

function OpenedRecording() {
  const opened = useApp((s) => s.opened);
  const close = useApp((s) => s.closeRecording);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  if (!opened) return null;
  return (
    <div className="opened-recording" data-testid="opened-recording">
      <div className="vram-head">
        <h3 ref={heading} tabIndex={-1} id="opened-heading">
          {opened.recording.title}
        </h3>
        <button type="button" className="ghost" onClick={close}>
          Back to the recordings
        </button>
      </div>
      {opened.steps.length === 0 ? (
        <p className="muted">This recording has no steps.</p>
      ) : (
        <ol className="opened-steps" aria-labelledby="opened-heading">
          {opened.steps.map((step) => (
            <OpenedStep key={step.index} id={opened.recording.id} step={step} />
          ))}
        </ol>
      )}
    </div>
  );
}

function OpenedStep({ id, step }: { id: string; step: RecordingStepView }) {
  const load = useApp((s) => s.loadStepImage);
  const image = useApp((s) => (step.image ? s.stepImages[recordingImageKey(id, step.image.file)] : undefined));
  useEffect(() => {
    if (step.image) void load(id, step.image.file);
  }, [id, step.image, load]);
  return (
    <li className="opened-step" data-testid="opened-step">
      <p>{withEmphasis(step.sentence)}</p>
      {step.windowTitle ? <p className="muted">in {step.windowTitle}</p> : null}
      {step.image && image ? (
        <img
          src={image}
          width={step.image.width}
          height={step.image.height}
          alt={`Screenshot of step ${step.index}, the place marked`}
        />
      ) : null}
    </li>
  );
}
