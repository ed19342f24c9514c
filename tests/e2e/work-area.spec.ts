import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { loadNodeScreenshotsBackend } from "../../src-main/capture/backends/node-screenshots";
import { screenshotDesktopBackend } from "../../src-main/capture/backends/screenshot-desktop";
import { readX11WorkAreas, workAreaOf } from "../../src-main/capture/work-area";

/**
 * Work areas on a real X server: what a window manager publishes on the root
 * window (set here by hand with xprop, as a panel's window manager would) is
 * what both capture backends report; without it, the bounds.
 */
const run = promisify(execFile);
const xprop = (...args: string[]) => run("xprop", ["-root", ...args]);

test.afterEach(async () => {
  // Other specs run on this display: leave the root window as it was.
  for (const name of ["_NET_WORKAREA", "_NET_CURRENT_DESKTOP", "_GTK_WORKAREAS_D1"]) await xprop("-remove", name);
});

test("without a window manager's word, the work area is the display's bounds", async () => {
  for (const name of ["_NET_WORKAREA", "_NET_CURRENT_DESKTOP"]) await xprop("-remove", name);
  expect(await readX11WorkAreas()).toEqual({});
  for (const display of await screenshotDesktopBackend.listDisplays()) expect(display.workArea).toEqual(display.bounds);
});

test("_NET_WORKAREA of the current desktop is each display's work area, cut to the display", async () => {
  const native = await loadNodeScreenshotsBackend();
  const [first] = await native.listDisplays();
  if (!first) throw new Error("no display");
  const { width, height } = first.bounds;
  // Desktop 0 has a top panel; desktop 1 (the current one) a 40 px bottom panel and a 60 px dock on the left.
  await xprop(
    "-f",
    "_NET_WORKAREA",
    "32c",
    "-set",
    "_NET_WORKAREA",
    `0, 30, ${width}, ${height - 30}, 60, 0, ${width - 60}, ${height - 40}`,
  );
  await xprop("-f", "_NET_CURRENT_DESKTOP", "32c", "-set", "_NET_CURRENT_DESKTOP", "1");
  const expected = { x: 60, y: 0, width: width - 60, height: height - 40 };
  expect(workAreaOf(first.bounds, await readX11WorkAreas())).toEqual(expected);
  // screenshot-desktop's listing reads the root window through the same shared, cached source: poll past its TTL.
  await expect
    .poll(async () => (await screenshotDesktopBackend.listDisplays())[0]?.workArea, { timeout: 10_000 })
    .toEqual(expected);
  await expect.poll(async () => (await native.listDisplays())[0]?.workArea, { timeout: 10_000 }).toEqual(expected);
});

test("a per-monitor rectangle (_GTK_WORKAREAS_Dn) wins over the screen-wide one", async () => {
  const [first] = await screenshotDesktopBackend.listDisplays();
  if (!first) throw new Error("no display");
  const { x, y, width, height } = first.bounds;
  await xprop("-f", "_NET_WORKAREA", "32c", "-set", "_NET_WORKAREA", `0, 0, 1, 1, ${x}, ${y}, ${width}, ${height}`);
  await xprop("-f", "_NET_CURRENT_DESKTOP", "32c", "-set", "_NET_CURRENT_DESKTOP", "1");
  await xprop(
    "-f",
    "_GTK_WORKAREAS_D1",
    "32c",
    "-set",
    "_GTK_WORKAREAS_D1",
    `${x}, ${y + 24}, ${width}, ${height - 24}`,
  );
  expect(workAreaOf(first.bounds, await readX11WorkAreas())).toEqual({ x, y: y + 24, width, height: height - 24 });
});
