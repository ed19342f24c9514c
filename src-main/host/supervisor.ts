import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { z } from "zod";
import { Backoff, sleep } from "../util/backoff";
import { TypedEvents } from "../util/typed-events";

/** The one line the host prints on stdout once it listens. */
const ListeningLine = z.object({
  event: z.literal("listening"),
  host: z.string(),
  port: z.number().int().positive(),
  pid: z.number().int().positive(),
  version: z.string(),
  protocol: z.number().int(),
});

export type HostEndpoint = { url: string; token: string; pid: number; version: string };

export type HostState =
  | { phase: "stopped" }
  | { phase: "starting"; attempt: number }
  | { phase: "ready"; endpoint: HostEndpoint }
  | { phase: "restarting"; inMs: number; reason: string }
  | { phase: "failed"; reason: string };

export type SupervisorOptions = {
  python: string;
  cwd: string;
  /** Seconds to wait for the listening line and a healthy /healthz. */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Consecutive failed starts after which the supervisor gives up and reports `failed`. */
  maxFailedStarts?: number;
  /** Extra environment for the host (model settings and the like), read at every start. */
  env?: Record<string, string> | (() => Record<string, string>);
  log?: (line: string) => void;
};

type SupervisorEvents = { state: HostState };

/**
 * Starts the inference host as a child process, learns its port from its first
 * stdout line, hands it a per-launch token through the environment (never argv,
 * which other users can read), waits for health, and restarts it with back-off
 * when it dies. The host watches its stdin and exits at EOF, so it cannot
 * outlive this process even when this process is killed outright.
 */
export class HostSupervisor extends TypedEvents<SupervisorEvents> {
  private child: ChildProcess | undefined;
  private current: HostState = { phase: "stopped" };
  private stopping = false;
  private readonly backoff: Backoff;
  private readonly token = randomBytes(32).toString("base64url");
  private failedStarts = 0;
  private healthyTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readyWaiters: Array<(endpoint: HostEndpoint) => void> = [];

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.backoff = new Backoff(options.backoffInitialMs ?? 500, options.backoffMaxMs ?? 10_000);
  }

  get state(): HostState {
    return this.current;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<HostEndpoint> {
    this.stopping = false;
    void this.launch();
    return this.whenReady();
  }

  /** Resolves with the endpoint as soon as the host is (or becomes) ready. */
  whenReady(): Promise<HostEndpoint> {
    if (this.current.phase === "ready") return Promise.resolve(this.current.endpoint);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.healthyTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.stdin?.end();
      child.kill("SIGTERM");
      const timeout = this.options.stopTimeoutMs ?? 5000;
      const inTime = await Promise.race([exited.then(() => true), sleep(timeout).then(() => false)]);
      if (!inTime) {
        child.kill("SIGKILL");
        await exited;
      }
    }
    this.child = undefined;
    this.setState({ phase: "stopped" });
  }

  /** Stops the host and starts it again (to pick up a new model profile, say). */
  async restart(): Promise<HostEndpoint> {
    await this.stop();
    return this.start();
  }

  private extraEnv(): Record<string, string> {
    const env = this.options.env;
    return typeof env === "function" ? env() : (env ?? {});
  }

  private setState(state: HostState): void {
    this.current = state;
    if (state.phase === "ready") {
      for (const resolve of this.readyWaiters.splice(0)) resolve(state.endpoint);
    }
    this.emit("state", state);
  }

  private async launch(): Promise<void> {
    if (this.stopping) return;
    this.setState({ phase: "starting", attempt: this.failedStarts + 1 });
    const child = spawn(
      this.options.python,
      ["-m", "sightline_host", "serve", "--port", "0", "--exit-on-stdin-eof", "--preload"],
      {
        cwd: this.options.cwd,
        env: { ...process.env, ...this.extraEnv(), SIGHTLINE_HOST_TOKEN: this.token, PYTHONUNBUFFERED: "1" },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    this.child = child;
    const log = this.options.log ?? (() => {});
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => log(`[host] ${line}`));

    child.once("exit", (code, signal) => {
      if (this.child !== child) return;
      clearTimeout(this.healthyTimer);
      this.child = undefined;
      if (!this.stopping) this.scheduleRestart(`host exited (${signal ?? `code ${code}`})`);
    });

    try {
      const endpoint = await this.handshake(child);
      if (this.child !== child) return;
      this.setState({ phase: "ready", endpoint });
      // Only a host that stays up for a while earns a fast restart next time.
      this.healthyTimer = setTimeout(() => {
        this.failedStarts = 0;
        this.backoff.reset();
      }, 30_000);
    } catch (error) {
      if (this.child !== child) return;
      log(`[supervisor] start failed: ${(error as Error).message}`);
      child.kill("SIGKILL");
    }
  }

  private async handshake(child: ChildProcess): Promise<HostEndpoint> {
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const line = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      const timer = setTimeout(() => reject(new Error(`no listening line within ${timeoutMs} ms`)), timeoutMs);
      lines.once("line", (first) => {
        clearTimeout(timer);
        resolve(first);
      });
      child.once("exit", () => reject(new Error("host exited before it listened")));
    });
    const listening = ListeningLine.parse(JSON.parse(line));
    const endpoint: HostEndpoint = {
      url: `http://${listening.host}:${listening.port}`,
      token: this.token,
      pid: listening.pid,
      version: listening.version,
    };
    while (Date.now() < deadline) {
      if (await isHealthy(endpoint)) return endpoint;
      await sleep(100);
    }
    throw new Error(`host did not become healthy within ${timeoutMs} ms`);
  }

  private scheduleRestart(reason: string): void {
    this.failedStarts++;
    const max = this.options.maxFailedStarts ?? 8;
    if (this.failedStarts > max) {
      this.setState({ phase: "failed", reason: `${reason}; gave up after ${max} restarts` });
      return;
    }
    const inMs = this.backoff.next();
    this.setState({ phase: "restarting", inMs, reason });
    this.restartTimer = setTimeout(() => void this.launch(), inMs);
  }
}

export async function isHealthy(endpoint: Pick<HostEndpoint, "url" | "token">): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint.url}/healthz`, {
      headers: { authorization: `Bearer ${endpoint.token}` },
      signal: AbortSignal.timeout(2000),
    });
    return response.ok;
  } catch {
    return false;
  }
}
