import type { ApiEvent, ApiHandlers, EventPayload, HostStatus, ObserveOutcome } from "../src-shared/bridge-api";
import { linesToElements } from "./agent/observe";
import { type Capture, captureDisplay } from "./capture/capture";
import { HostClient } from "./host/client";
import { hostPython, projectRoot } from "./host/python-env";
import { type HostState, HostSupervisor } from "./host/supervisor";
import { TypedEvents } from "./util/typed-events";

type ServiceEvents = { [E in ApiEvent]: EventPayload<E> };

export type ServicesOptions = {
  root?: string;
  python?: string;
  log?: (line: string) => void;
  /** Called around every capture so a visible overlay can step out of the picture. */
  beforeCapture?: () => Promise<void>;
  afterCapture?: () => Promise<void>;
  capture?: () => Promise<Capture>;
};

export function toHostStatus(state: HostState): HostStatus {
  if (state.phase === "ready") return { phase: "ready", version: state.endpoint.version, pid: state.endpoint.pid };
  return state;
}

/**
 * The main-process services, independent of Electron: the supervised host, the
 * client that talks to it, and the API handlers that the Electron preload and
 * the headless bridge both expose.
 */
export class Services extends TypedEvents<ServiceEvents> {
  readonly supervisor: HostSupervisor;
  readonly client: HostClient;
  readonly handlers: ApiHandlers;

  constructor(private readonly options: ServicesOptions = {}) {
    super();
    const root = options.root ?? projectRoot();
    this.supervisor = new HostSupervisor({
      python: options.python ?? hostPython(root),
      cwd: root,
      log: options.log ?? ((line) => console.error(line)),
    });
    this.supervisor.on("state", (state) => this.emit("hostStatus", toHostStatus(state)));
    this.client = new HostClient({ endpoint: () => this.supervisor.whenReady() });
    this.handlers = {
      getHostStatus: async () => toHostStatus(this.supervisor.state),
      submitInstruction: async ({ instruction }) => this.observe(instruction),
    };
  }

  async start(): Promise<void> {
    await this.supervisor.start();
  }

  async stop(): Promise<void> {
    this.client.close();
    await this.supervisor.stop();
  }

  private async observe(instruction: string): Promise<ObserveOutcome> {
    try {
      this.emit("stage", { stage: "capturing" });
      const started = performance.now();
      await this.options.beforeCapture?.();
      let capture: Capture;
      try {
        capture = await (this.options.capture ?? captureDisplay)();
      } finally {
        await this.options.afterCapture?.();
      }
      const captured = performance.now();
      this.emit("stage", { stage: "observing" });
      const result = await this.client.observePng(capture.png);
      const observed = performance.now();
      this.emit("stage", { stage: "done" });
      return {
        instruction,
        display: capture.display,
        elements: linesToElements(result.lines, capture),
        timingsMs: { capture: captured - started, observe: observed - captured, hostOcr: result.timings_ms.ocr },
      };
    } catch (error) {
      this.emit("stage", { stage: "failed", detail: (error as Error).message });
      throw error;
    }
  }
}
