/**
 * Capture on the current X display, alone and end to end. Run through
 * bench/capture.sh, which starts Xvfb at 1920x1080 and 3840x2160 and merges
 * the results.
 *
 * - capture: one full-display capture per backend, as raw pixels and as PNG
 *   (the PNG the app would send a remote host).
 * - to host: capture → the host has the decoded RGB array (and has answered),
 *   through the real HostClient and the host's real /ws with the OCR left out
 *   (bench/capture_host.py), per native backend, three ways: PNG as base64 in
 *   JSON (what a remote host gets), raw pixels as base64 in JSON, raw pixels
 *   in a binary frame (what a host on this machine gets). `vs_png` is a row's
 *   median over that backend's PNG row's median, `vs_before` over the median
 *   of node-screenshots' PNG row (what the app sent before the raw path), both
 *   from the same run.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import screenshot from "screenshot-desktop";
import type { CaptureBackend } from "../src-main/capture/backend";
import { loadLibnutX11Backend } from "../src-main/capture/backends/libnut-x11";
import { loadNodeScreenshotsBackend } from "../src-main/capture/backends/node-screenshots";
import { screenshotDesktopBackend } from "../src-main/capture/backends/screenshot-desktop";
import { captureDisplay } from "../src-main/capture/capture";
import { HostClient } from "../src-main/host/client";
import { hostPython, projectRoot } from "../src-main/host/python-env";
import type { HostMessage } from "../src-shared/protocol/host-messages";
import { summarize } from "./machine";

const runs = Number(process.env.BENCH_RUNS ?? 30);

type Case = {
  stage: "capture" | "to host";
  backend: string;
  output: string;
  run: () => Promise<void>;
  samples: number[];
  /** The host's own decode time per sample (to host only). */
  decodeMs: number[];
};

/**
 * Round robin: every case once per round, so a burst of load from other work on the machine lands on all
 * cases alike and the ratios between them stay fair even where the absolute numbers move.
 */
async function measure(cases: Case[]): Promise<void> {
  for (const c of cases) await c.run(); // warm-up: first calls load libraries and open connections
  for (const c of cases) c.decodeMs.length = 0;
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const start = performance.now();
      await c.run();
      c.samples.push(performance.now() - start);
    }
  }
}

async function startHost(token: string) {
  const root = projectRoot();
  const child = spawn(hostPython(root), ["bench/capture_host.py", token], {
    cwd: root,
    env: { ...process.env, PYTHONPATH: `${root}/inference` },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const [line] = await Promise.race([
    (async () => {
      for await (const l of createInterface({ input: child.stdout })) return [l];
      return [undefined];
    })(),
    new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`bench host exited (${code})`)))),
  ]);
  const { port } = JSON.parse(line ?? "{}") as { port: number };
  return { url: `http://127.0.0.1:${port}`, stop: () => child.stdin.end() };
}

const xcap = await loadNodeScreenshotsBackend();
const natives: CaptureBackend[] = [await loadLibnutX11Backend(), xcap];
const [display] = await xcap.listDisplays();
if (!display) throw new Error("no display");
const resolution = `${display.bounds.width}x${display.bounds.height}`;

const cases: Case[] = [];
const add = (stage: Case["stage"], backend: string, output: string, run: () => Promise<unknown>) => {
  const c: Case = { stage, backend, output, run: async () => void (await run()), samples: [], decodeMs: [] };
  cases.push(c);
  return c;
};

for (const native of natives) {
  const format = (await native.grab(display)).pixels?.format.toUpperCase() ?? "?";
  add("capture", native.name, `raw ${format}`, () => native.grab(display));
  add("capture", native.name, "PNG", async () => (await native.grab(display)).png());
}
add("capture", "screenshot-desktop", "PNG", async () => {
  const [d] = await screenshotDesktopBackend.listDisplays();
  return screenshot({ format: "png", screen: d?.id as unknown as number });
});

const token = randomBytes(24).toString("hex");
const host = await startHost(token);
const client = new HostClient({ endpoint: async () => ({ url: host.url, token }) });
const rows: Array<Record<string, unknown>> = [];
try {
  await client.ping();
  for (const native of natives) {
    const capture = () => captureDisplay({}, native);
    const endToEnd = (output: string, observe: () => Promise<HostMessage>) => {
      const c = add("to host", native.name, output, async () => {
        const reply = await observe();
        if (reply.type !== "observe_result") throw new Error(`expected observe_result, got ${JSON.stringify(reply)}`);
        c.decodeMs.push(reply.timings_ms.decode);
      });
    };
    endToEnd("PNG, base64 in JSON", async () => {
      const png = (await capture()).png.toString("base64");
      return client.request({ type: "observe", image: { format: "png", data: png } });
    });
    endToEnd("raw, base64 in JSON", async () => {
      const pixels = (await capture()).pixels;
      if (!pixels) throw new Error(`${native.name} gave no raw pixels`);
      const { format, width, height } = pixels;
      const data = pixels.data.toString("base64");
      return client.request({ type: "observe", image: { format, width, height, data } });
    });
    const probe = (await capture()).pixels;
    if (!probe || !(await client.sendsRawPixels(probe))) throw new Error("the client would not send raw pixels");
    endToEnd("raw, binary frame", async () => client.observeCapture(await capture()));
  }
  await measure(cases);
  const median = (backend: string, output: string) =>
    summarize(cases.find((c) => c.stage === "to host" && c.backend === backend && c.output === output)?.samples ?? [])
      .median;
  const before = median("node-screenshots", "PNG, base64 in JSON");
  for (const c of cases) {
    const stats = summarize(c.samples);
    const toHost = c.stage === "to host";
    rows.push({
      resolution,
      stage: c.stage,
      backend: c.backend,
      output: c.output,
      ...stats,
      host_decode_median: toHost ? summarize(c.decodeMs).median : null,
      vs_png: toHost ? stats.median / median(c.backend, "PNG, base64 in JSON") : null,
      vs_before: toHost ? stats.median / before : null,
    });
  }
} finally {
  client.close();
  host.stop();
}
process.stdout.write(`${JSON.stringify(rows)}\n`);
