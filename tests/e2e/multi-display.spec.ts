import { type Browser, chromium, expect, test } from "@playwright/test";
import { chromiumPath } from "../../playwright.config";
import { ActionExecutor } from "../../src-main/actions/executor";
import { createNutDesktopIO } from "../../src-main/actions/nut-desktop-io";
import { captureBackend } from "../../src-main/capture/capture";
import { type DisplayGeometry, displayToDesktopPt, point } from "../../src-main/coords/spaces";
import { Action } from "../../src-shared/actions";

/**
 * Two displays side by side: the X screen is split into a left display at
 * scale 1 and a right one at scale 2 (as a HiDPI monitor beside a normal one
 * would be), since Xvfb offers no second monitor. A click planned in the
 * right display's own image pixels must land on that spot of a real window.
 */
let browser: Browser;

test.beforeAll(async () => {
  const [screen] = await (await captureBackend()).listDisplays();
  test.skip(!screen || screen.bounds.width < 3000, "needs the wide Xvfb screen that scripts/test-e2e.sh starts");
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: false,
    args: ["--no-sandbox", "--disable-gpu", "--window-position=2300,200", "--window-size=900,600"],
  });
});
test.afterAll(async () => browser?.close());

test("a click in the second display's pixels lands there", async () => {
  const [screen] = await (await captureBackend()).listDisplays();
  const half = (screen?.bounds.width ?? 0) / 2;
  const displays: DisplayGeometry[] = [
    {
      id: "left",
      originPx: { x: 0, y: 0 },
      originPt: { x: 0, y: 0 },
      sizePx: { width: half, height: 1080 },
      scaleFactor: 1,
    },
    {
      id: "right",
      originPx: { x: half, y: 0 },
      originPt: { x: half, y: 0 },
      sizePx: { width: half, height: 1080 },
      scaleFactor: 2,
    },
  ];
  const page = await (await browser.newContext({ viewport: null })).newPage();
  await page.setContent(`<body style="margin:0"><div id="pad" style="width:800px;height:450px;background:#eef"></div>
    <script>window.hits=[];document.getElementById("pad").addEventListener("click",e=>hits.push([e.screenX,e.screenY]));</script></body>`);
  const origin = await page.evaluate(() => ({
    x: window.screenX + (window.outerWidth - window.innerWidth) / 2,
    y: window.screenY + window.outerHeight - window.innerHeight,
  }));
  // The spot 300 px right and 200 px down into the pad, in the right display's image pixels…
  const right = displays[1] as DisplayGeometry;
  const inImage = point("display_px", origin.x + 300 - right.originPx.x, origin.y + 200 - right.originPx.y);
  // …planned as a logical point, the way Electron would report it.
  const planned = displayToDesktopPt(inImage, right);
  expect(planned.x).toBeLessThan(origin.x + 300);

  const outcome = await new ActionExecutor(createNutDesktopIO()).perform(
    Action.parse({ type: "click", target: { kind: "point", space: "desktop_pt", x: planned.x, y: planned.y } }),
    { displays, signal: new AbortController().signal },
  );
  expect(outcome.outcome).toBe("done");
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { hits: number[][] }).hits))
    .toEqual([[Math.round(origin.x + 300), Math.round(origin.y + 200)]]);
});
