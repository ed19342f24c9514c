import { join } from "node:path";
import type {
  ApiEvent,
  ApiHandlers,
  EventPayload,
  HostStatus,
  RecordingStatus,
  RecordingStepView,
  RecordingSummaryView,
  ScreenBox,
} from "../src-shared/bridge-api";
import { AuditLog } from "./actions/audit-log";
import { ActionExecutor } from "./actions/executor";
import { elementsFromObserve } from "./agent/observe";
import { OpenAiPlanner } from "./agent/openai-planner";
import type { Planner } from "./agent/planner";
import { RunManager } from "./agent/run-manager";
import { type Capture, captureBackend, captureDisplay } from "./capture/capture";
import { cursorPoint } from "./capture/cursor";
import { toGeometry } from "./capture/geometry";
import { HostClient } from "./host/client";
import { hostPython, projectRoot } from "./host/python-env";
import { type HostState, HostSupervisor } from "./host/supervisor";
import { ModelPulls } from "./models/model-pulls";
import { XdotoolActiveWindow } from "./recording/active-window";
import { appInputFilter } from "./recording/app-ignore";
import type { InputEventSource } from "./recording/input-events";
import { plannerStepTextWriter } from "./recording/planner-step-text";
import type { Recorder, RecorderDeps, RecorderState } from "./recording/recorder";
import type { RecordedStep, RecordingManifest } from "./recording/recording-manifest";
import { type RecordingSummary, RecordingsLibrary } from "./recording/recordings-library";
import { toReplayPlan } from "./recording/replay-plan";
import { ReplayPlanner } from "./recording/replay-planner";
import { defaultConfigDir, SettingsStore } from "./settings/settings-store";
import { TypedEvents } from "./util/typed-events";

type ServiceEvents = { [E in ApiEvent]: EventPayload<E> };

export type ServicesOptions = {
  root?: string;
  python?: string;
  configDir?: string;
  log?: (line: string) => void;
  /** Called around every capture so a visible overlay can step out of the picture. */
  beforeCapture?: () => Promise<void>;
  afterCapture?: () => Promise<void>;
  capture?: () => Promise<Capture>;
  planner?: Planner;
  /** Aborted by the global kill switch; every run stops when it fires. */
  killSignal?: () => AbortSignal;
  /** How long one watchTelemetry call lasts (default TELEMETRY_LEASE_MS). */
  telemetryLeaseMs?: number;
  /**
   * The recorder's sources, for tests: global input (default: uiohook-napi, loaded on the first recording),
   * capture (default: the display under the point), observe (default: the host's), the active window's title.
   */
  recorder?: Partial<Pick<RecorderDeps, "capture" | "observe" | "activeWindow" | "frames" | "writeStepText">> & {
    input?: () => InputEventSource;
  };
  /** Sightline's own windows (desktop physical pixels): input on them is not recorded. */
  ownWindows?: () => readonly ScreenBox[];
  /** Opens a folder in the file manager (Electron's shell.openPath); absent in the headless entry. */
  openFolder?: (folder: string) => Promise<boolean>;
};

/** A recorded step as the renderer shows it. */
export function stepView(step: RecordedStep): RecordingStepView {
  return {
    index: step.index,
    kind: step.kind,
    sentence: step.sentence,
    time: step.time,
    ...(step.windowTitle ? { windowTitle: step.windowTitle } : {}),
    ...(step.image ? { image: { file: step.image.file, width: step.image.width, height: step.image.height } } : {}),
  };
}

export function summaryView(summary: RecordingSummary): RecordingSummaryView {
  return {
    id: summary.id,
    title: summary.title,
    ...(summary.createdAt ? { createdAt: summary.createdAt } : {}),
    ...(summary.endedAt ? { endedAt: summary.endedAt } : {}),
    status: summary.status,
    stepCount: summary.stepCount,
    folder: summary.folder,
  };
}

export function recordingStatus(state: RecorderState): RecordingStatus {
  if (state.phase === "idle") return { phase: "idle" };
  const { phase, id, title, startedAt, steps, pending } = state;
  return { phase, id, title, startedAt, steps, pending };
}

/** How long one watchTelemetry call keeps the host's telemetry stream running; renderers renew well before. */
export const TELEMETRY_LEASE_MS = 15_000;
/** The stream's interval: about one sample a second, as the VRAM panel shows it. */
export const TELEMETRY_INTERVAL_MS = 1000;

export function toHostStatus(state: HostState): HostStatus {
  if (state.phase === "ready") return { phase: "ready", version: state.endpoint.version, pid: state.endpoint.pid };
  return state;
}

/**
 * The main-process services, independent of Electron: the supervised host, the
 * client that talks to it, the runs, the settings, and the API handlers that
 * the Electron preload and the headless bridge both expose.
 */
export class Services extends TypedEvents<ServiceEvents> {
  readonly supervisor: HostSupervisor;
  readonly client: HostClient;
  readonly runs: RunManager;
  readonly settings: SettingsStore;
  readonly handlers: ApiHandlers;
  readonly recordings: RecordingsLibrary;
  readonly pulls: ModelPulls;
  private recorder: Recorder | undefined;
  /** Windows reported by the page that started the recording (the headless entry's tab). */
  private pageWindows: ScreenBox[] = [];
  /** Renderers that want telemetry → when their lease ends (ms since the epoch). */
  private readonly telemetryWatchers = new Map<string, number>();
  private telemetryTimer: NodeJS.Timeout | undefined;
  private readonly telemetryLeaseMs: number;

  constructor(options: ServicesOptions = {}) {
    super();
    const root = options.root ?? projectRoot();
    const configDir = options.configDir ?? defaultConfigDir();
    this.telemetryLeaseMs = options.telemetryLeaseMs ?? TELEMETRY_LEASE_MS;
    this.settings = new SettingsStore(configDir);
    this.supervisor = new HostSupervisor({
      python: options.python ?? hostPython(root),
      cwd: root,
      env: () => ({ SIGHTLINE_PROFILE: this.settings.peek().profile }),
      log: options.log ?? ((line) => console.error(line)),
    });
    this.supervisor.on("state", (state) => this.emit("hostStatus", toHostStatus(state)));
    this.client = new HostClient({ endpoint: () => this.supervisor.whenReady() });
    this.client.on("telemetry", ({ type: _type, id: _id, ...sample }) => this.emit("telemetry", sample));
    this.client.on("telemetryError", (error) => this.emit("telemetryError", error));
    this.pulls = new ModelPulls(this.client);
    this.pulls.on("state", (state) => this.emit("modelPull", state));
    const plannerEndpoint = async () => {
      const endpoint = await this.supervisor.whenReady();
      return { baseURL: `${endpoint.url}/v1`, apiKey: endpoint.token };
    };
    const planner = options.planner ?? new OpenAiPlanner({ endpoint: plannerEndpoint });
    const audit = new AuditLog(join(configDir, "audit", "actions.jsonl"));
    this.runs = new RunManager({
      capture: options.capture ?? (async () => captureDisplay({ point: await cursorPoint() })),
      ...(options.beforeCapture ? { beforeCapture: options.beforeCapture } : {}),
      ...(options.afterCapture ? { afterCapture: options.afterCapture } : {}),
      observe: async (capture) => {
        const result = await this.client.observeCapture(capture);
        return { elements: elementsFromObserve(result, capture), timingsMs: { ...result.timings_ms } };
      },
      planner: () => planner,
      executor: async () => {
        // nut-js loads a native addon that needs a display; load it only when a step is confirmed.
        const { createNutDesktopIO } = await import("./actions/nut-desktop-io");
        return new ActionExecutor(createNutDesktopIO(), audit);
      },
      displays: async () => (await (await captureBackend()).listDisplays()).map(toGeometry),
      confirmation: () => this.settings.peek().confirmation,
      point: (capture, query, signal) => this.client.point(capture, query, { maxPoints: 1, signal }),
      canPoint: () => this.client.canPoint(),
      ...(options.killSignal ? { killSignal: options.killSignal } : {}),
    });
    this.runs.on("run", (state) => this.emit("run", state));
    this.recordings = new RecordingsLibrary(join(configDir, "recordings"));
    const log = options.log ?? ((line: string) => console.error(line));
    const recorderOf = async (): Promise<Recorder> => {
      if (this.recorder) return this.recorder;
      // uiohook-napi is a native addon that needs a display: load it when the first recording starts.
      const { Recorder } = await import("./recording/recorder");
      const given = options.recorder ?? {};
      const input = given.input?.() ?? new (await import("./recording/uiohook-input-source")).UiohookInputSource();
      const recorder = new Recorder({
        library: this.recordings,
        input,
        capture: given.capture ?? ((point) => captureDisplay(point ? { point } : {})),
        observe:
          given.observe ?? (async (capture) => elementsFromObserve(await this.client.observeCapture(capture), capture)),
        activeWindow: given.activeWindow ?? new XdotoolActiveWindow(),
        ...(given.frames ? { frames: given.frames } : {}),
        // The planner words each step where the host has it loaded; the template otherwise.
        writeStepText:
          given.writeStepText ??
          plannerStepTextWriter(async () => {
            // Never wait for a host to come up just to word a step: the template is there.
            const state = this.supervisor.state;
            if (state.phase !== "ready") throw new Error("the host is not ready");
            return { baseURL: `${state.endpoint.url}/v1`, apiKey: state.endpoint.token };
          }),
        ignore: appInputFilter({
          ownWindows: () => [...(options.ownWindows?.() ?? []), ...this.pageWindows],
          recordHotkey: () => this.settings.peek().hotkeys.record,
        }),
        log,
      });
      recorder.on("state", (state) => this.emit("recordingState", recordingStatus(state)));
      recorder.on("step", ({ id, step }) => this.emit("recordingStep", { id, step: stepView(step) }));
      recorder.on("problem", (problem) => this.emit("recordingProblem", problem));
      this.recorder = recorder;
      return recorder;
    };
    const summaryOf = async (manifest: RecordingManifest): Promise<RecordingSummaryView> => {
      const found = (await this.recordings.list()).find((r) => r.id === manifest.id);
      if (!found) throw Object.assign(new Error(`no recording ${manifest.id}`), { code: "unknown_recording" });
      return summaryView(found);
    };
    const recordingHandlers: Pick<
      ApiHandlers,
      | "recordingStart"
      | "recordingStop"
      | "recordingState"
      | "listRecordings"
      | "getRecording"
      | "renameRecording"
      | "deleteRecording"
      | "exportRecording"
      | "openRecordingFolder"
      | "getRecordingImage"
      | "replayRecording"
    > = {
      recordingStart: async ({ title, ownWindow }) => {
        const settings = await this.settings.get();
        const recorder = await recorderOf();
        if (recorder.state.phase !== "idle")
          throw Object.assign(new Error("a recording is already running"), { code: "already_recording" });
        this.pageWindows = ownWindow ? [ownWindow] : [];
        await recorder.start({ ...(title ? { title } : {}), settings: settings.recording });
        return recordingStatus(recorder.state);
      },
      recordingStop: async () => {
        if (!this.recorder || this.recorder.state.phase !== "recording")
          throw Object.assign(new Error("nothing is being recorded"), { code: "not_recording" });
        const { manifest, exports } = await this.recorder.stop();
        this.pageWindows = [];
        return { recording: await summaryOf(manifest), steps: manifest.steps.map(stepView), exports };
      },
      recordingState: async () => recordingStatus(this.recorder?.state ?? { phase: "idle" }),
      listRecordings: async () => (await this.recordings.list()).map(summaryView),
      getRecording: async ({ id }) => {
        const manifest = await this.recordings.get(id);
        return { recording: await summaryOf(manifest), steps: manifest.steps.map(stepView) };
      },
      renameRecording: async ({ id, title }) => summaryOf(await this.recordings.rename(id, title)),
      deleteRecording: async ({ id }) => {
        const state = this.recorder?.state;
        if (state && state.phase !== "idle" && state.id === id)
          throw Object.assign(new Error("stop the recording before deleting it"), { code: "recording_busy" });
        await this.recordings.delete(id);
        return {};
      },
      exportRecording: async ({ id }) => this.recordings.export(id),
      openRecordingFolder: async ({ id }) => {
        const folder = (await this.recordings.export(id)).folder;
        const opened = options.openFolder ? await options.openFolder(folder) : false;
        return { folder, opened };
      },
      getRecordingImage: async ({ id, file }) => ({
        dataUrl: `data:image/png;base64,${(await this.recordings.readImage(id, file)).toString("base64")}`,
      }),
      replayRecording: async ({ id }) => {
        await this.settings.get();
        const manifest = await this.recordings.get(id);
        if (manifest.steps.length === 0)
          throw Object.assign(new Error("this recording has no steps to replay"), { code: "empty_recording" });
        const planner = new ReplayPlanner(toReplayPlan(manifest));
        return this.runs.start(`Replay: ${manifest.title}`, undefined, { planner, limits: planner.limits });
      },
    };
    this.handlers = {
      getHostStatus: async () => toHostStatus(this.supervisor.state),
      submitInstruction: async ({ instruction }) => {
        await this.settings.get();
        return this.runs.start(instruction);
      },
      runPlan: async ({ instruction, plan }) => {
        await this.settings.get();
        return this.runs.start(instruction, plan);
      },
      decide: async ({ runId, decision }) => {
        this.runs.decide(runId, decision);
        return {};
      },
      cancelRun: async ({ runId }) => {
        this.runs.cancel(runId);
        return {};
      },
      getRun: async ({ runId }) => this.runs.state(runId),
      getRunScreenshot: async ({ runId }) => {
        const capture = this.runs.screenshot(runId);
        return {
          dataUrl: `data:image/png;base64,${capture.png.toString("base64")}`,
          width: capture.width,
          height: capture.height,
        };
      },
      getSettings: async () => this.settings.get(),
      updateSettings: async (patch) => {
        const before = (await this.settings.get()).profile;
        const next = await this.settings.update(patch);
        // The host loads the profile's models; a new profile needs a new host.
        if (next.profile !== before && this.supervisor.state.phase !== "stopped") void this.supervisor.restart();
        return next;
      },
      watchTelemetry: async ({ watcher }) => {
        this.telemetryWatchers.set(watcher, Date.now() + this.telemetryLeaseMs);
        this.updateTelemetry();
        return { leaseMs: this.telemetryLeaseMs };
      },
      unwatchTelemetry: async ({ watcher }) => {
        this.telemetryWatchers.delete(watcher);
        this.updateTelemetry();
        return {};
      },
      getVramPlan: async ({ profile }) => {
        const { type: _type, id: _id, ...plan } = await this.client.planVram(profile);
        return plan;
      },
      listModels: async () => ({ models: await this.client.listModels(), pulls: this.pulls.current }),
      pullModel: async ({ modelId }) => {
        this.pulls.start(modelId);
        return {};
      },
      cancelPull: async ({ modelId }) => ({ cancelled: await this.pulls.cancel(modelId) }),
      ...recordingHandlers,
    };
  }

  async start(): Promise<void> {
    await this.settings.get();
    await this.supervisor.start();
  }

  /**
   * The host samples the GPUs only while some renderer watches (the VRAM panel is open): NVML queries can keep
   * a laptop's discrete GPU awake. A watcher holds a lease that it renews; one that vanishes without a word
   * (a closed browser tab) stops counting when its lease runs out. The client resubscribes after the host
   * restarts by itself.
   */
  private updateTelemetry(): void {
    clearTimeout(this.telemetryTimer);
    this.telemetryTimer = undefined;
    const now = Date.now();
    for (const [watcher, until] of this.telemetryWatchers) if (until <= now) this.telemetryWatchers.delete(watcher);
    if (this.telemetryWatchers.size === 0) {
      if (this.client.telemetryWanted) void this.client.stopTelemetry();
      return;
    }
    this.client.startTelemetry(TELEMETRY_INTERVAL_MS);
    const next = Math.min(...this.telemetryWatchers.values());
    this.telemetryTimer = setTimeout(() => this.updateTelemetry(), next - now + 10);
    this.telemetryTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.recorder?.state.phase === "recording") await this.recorder.stop().catch(() => undefined);
    clearTimeout(this.telemetryTimer);
    this.telemetryWatchers.clear();
    this.client.close();
    await this.supervisor.stop();
  }
}
