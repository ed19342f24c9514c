import { join } from "node:path";
import type { ApiEvent, ApiHandlers, EventPayload, HostStatus } from "../src-shared/bridge-api";
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
};

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
    const planner =
      options.planner ??
      new OpenAiPlanner({
        endpoint: async () => {
          const endpoint = await this.supervisor.whenReady();
          return { baseURL: `${endpoint.url}/v1`, apiKey: endpoint.token };
        },
      });
    const audit = new AuditLog(join(configDir, "audit", "actions.jsonl"));
    this.runs = new RunManager({
      capture: options.capture ?? (async () => captureDisplay({ point: await cursorPoint() })),
      ...(options.beforeCapture ? { beforeCapture: options.beforeCapture } : {}),
      ...(options.afterCapture ? { afterCapture: options.afterCapture } : {}),
      observe: async (capture) => {
        const result = await this.client.observePng(capture.png);
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
      ...(options.killSignal ? { killSignal: options.killSignal } : {}),
    });
    this.runs.on("run", (state) => this.emit("run", state));
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
    clearTimeout(this.telemetryTimer);
    this.telemetryWatchers.clear();
    this.client.close();
    await this.supervisor.stop();
  }
}
