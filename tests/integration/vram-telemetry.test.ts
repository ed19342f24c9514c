import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Services } from "../../src-main/services";
import { API_EVENTS, dispatchCall, type TelemetrySample } from "../../src-shared/bridge-api";
import { root, waitFor } from "./helpers";

/**
 * Telemetry and the VRAM planner through the real services and a real host that replays the recorded
 * two-H200 NVML stream (SIGHTLINE_TELEMETRY_REPLAY): the stream runs only while a renderer watches, comes
 * back by itself after the host restarts, and stops when the last lease ends.
 */
const REPLAY = join(root, "inference/tests/fixtures/nvml-2gpu-h200.jsonl");
const LEASE_MS = 2500;
const previousReplay = process.env.SIGHTLINE_TELEMETRY_REPLAY;
let services: Services;
const samples: Array<{ at: number; sample: TelemetrySample }> = [];
const errors: unknown[] = [];

const since = (at: number) => samples.filter((s) => s.at >= at);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  process.env.SIGHTLINE_TELEMETRY_REPLAY = REPLAY;
  services = new Services({
    root,
    configDir: mkdtempSync(join(tmpdir(), "sightline-telemetry-")),
    log: () => {},
    telemetryLeaseMs: LEASE_MS,
  });
  // Every sample must be what the renderer's side of the bridge accepts.
  services.on("telemetry", (sample) => samples.push({ at: Date.now(), sample: API_EVENTS.telemetry.parse(sample) }));
  services.on("telemetryError", (error) => errors.push(error));
  await services.start();
});

afterAll(async () => {
  await services.stop();
  if (previousReplay === undefined) delete process.env.SIGHTLINE_TELEMETRY_REPLAY;
  else process.env.SIGHTLINE_TELEMETRY_REPLAY = previousReplay;
});

describe("telemetry and the VRAM plan through the services", () => {
  it("streams nothing while nobody watches", async () => {
    await services.client.ping();
    await sleep(1500);
    expect(samples).toEqual([]);
  });

  it("streams the replayed GPUs about once a second while a renderer watches", async () => {
    const start = Date.now();
    await expect(dispatchCall(services.handlers, "watchTelemetry", { watcher: "renderer-a" })).resolves.toEqual({
      leaseMs: LEASE_MS,
    });
    await waitFor("three samples", () => since(start).length >= 3 || undefined, 10_000);
    const [first, , third] = since(start);
    expect(first?.sample.source).toBe("replay");
    expect(first?.sample.gpus.map((g) => g.name)).toEqual(["NVIDIA H200", "NVIDIA H200"]);
    expect(first?.sample).not.toHaveProperty("id");
    const spacing = ((third?.sample.time_ms ?? 0) - (first?.sample.time_ms ?? 0)) / 2;
    expect(spacing).toBeGreaterThan(800);
    expect(spacing).toBeLessThan(1600);
    expect(errors).toEqual([]);
  });

  it("answers getVramPlan with the planner's verdict for the replayed GPUs", async () => {
    const plan = (await dispatchCall(services.handlers, "getVramPlan", { profile: "workstation" })) as Record<
      string,
      unknown
    >;
    expect(plan.outcome).toBe("fits_with_changes");
    expect(plan.gpus_from).toBe("replay");
    expect(plan.verdict).toMatch(/^Does not fit as requested\. Nearest plan that fits: .*TP=2 × PP=1/);
    expect(plan).not.toHaveProperty("type");
    await expect(dispatchCall(services.handlers, "getVramPlan", { profile: "datacenter" })).rejects.toMatchObject({
      code: "bad_input",
    });
  });

  it("subscribes again by itself after the host restarts", async () => {
    const status = services.supervisor.state;
    expect(status.phase).toBe("ready");
    if (status.phase !== "ready") return;
    // Renew the lease while the host is away.
    const renew = setInterval(() => void services.handlers.watchTelemetry({ watcher: "renderer-a" }), 1000);
    try {
      process.kill(status.endpoint.pid, "SIGKILL");
      await waitFor("the host to restart", () => services.supervisor.state.phase !== "ready" || undefined, 10_000);
      const back = await services.supervisor.whenReady();
      expect(back.pid).not.toBe(status.endpoint.pid);
      const after = Date.now();
      await waitFor("samples from the restarted host", () => since(after).length >= 2 || undefined, 30_000);
    } finally {
      clearInterval(renew);
    }
  });

  it("stops when the last watcher leaves, and when a lease runs out unrenewed", async () => {
    await services.handlers.watchTelemetry({ watcher: "renderer-b" });
    await services.handlers.unwatchTelemetry({ watcher: "renderer-a" });
    // renderer-b still watches.
    let mark = Date.now();
    await waitFor("a sample for renderer-b", () => since(mark).length >= 1 || undefined, 5000);
    await services.handlers.unwatchTelemetry({ watcher: "renderer-b" });
    await sleep(300);
    mark = Date.now();
    await sleep(2000);
    expect(since(mark)).toEqual([]);

    // A watcher that never renews (a closed tab) stops counting when its lease ends.
    await services.handlers.watchTelemetry({ watcher: "renderer-c" });
    mark = Date.now();
    await waitFor("a sample for renderer-c", () => since(mark).length >= 1 || undefined, 5000);
    await sleep(LEASE_MS + 300);
    mark = Date.now();
    await sleep(2000);
    expect(since(mark)).toEqual([]);
  });
});
