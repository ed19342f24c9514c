/**
 * Capture latency per backend on the current X display: one full-display
 * capture to PNG (what the app sends to the host today) and, for the native
 * backend, to raw RGBA. Run through bench/capture.sh, which starts Xvfb at
 * each resolution and merges the results.
 */
import screenshot from "screenshot-desktop";
import { loadNodeScreenshotsBackend } from "../src-main/capture/backends/node-screenshots";
import { screenshotDesktopBackend } from "../src-main/capture/backends/screenshot-desktop";
import { summarize } from "./machine";

const runs = Number(process.env.BENCH_RUNS ?? 30);

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  await fn(); // warm-up: first call loads libraries and opens the X connection
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}

const native = await loadNodeScreenshotsBackend();
const [display] = await native.listDisplays();
if (!display) throw new Error("no display");
const { Monitor } = await import("node-screenshots");
const monitor = Monitor.all()[0];
if (!monitor) throw new Error("no monitor");

const rows = [
  {
    backend: "node-screenshots",
    output: "raw RGBA",
    samples: await time(async () => (await monitor.captureImage()).toRaw()),
  },
  { backend: "node-screenshots", output: "PNG", samples: await time(() => native.capturePng(display)) },
  {
    backend: "screenshot-desktop",
    output: "PNG",
    samples: await time(async () => {
      const [d] = await screenshotDesktopBackend.listDisplays();
      return screenshot({ format: "png", screen: d?.id as unknown as number });
    }),
  },
];
const resolution = `${display.bounds.width}x${display.bounds.height}`;
process.stdout.write(
  `${JSON.stringify(rows.map((r) => ({ resolution, backend: r.backend, output: r.output, ...summarize(r.samples) })))}\n`,
);
