/**
 * Shared pieces of the renderer end-to-end specs: the headless app with its
 * own settings folder, a bridge client for the test's own calls (runPlan,
 * getHostStatus), a real target window on the X display, and screenshots.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, expect, type Page, test } from "@playwright/test";
import { WebSocket } from "ws";
import { chromiumPath } from "../../playwright.config";
import {
  API_METHODS,
  type ApiMethod,
  type MethodInput,
  type MethodOutput,
  type RunState,
} from "../../src-shared/bridge-api";
import { BRIDGE_PATH, BridgeServerFrame } from "../../src-shared/bridge-wire";
import type { Plan } from "../../src-shared/plan";
import { type HeadlessApp, startHeadlessApp } from "./headless-app";

export const SCREENSHOTS = "test-reports/screenshots";

export async function startRendererApp(): Promise<HeadlessApp & { configDir: string }> {
  const configDir = mkdtempSync(join(tmpdir(), "sightline-renderer-e2e-"));
  const app = await startHeadlessApp({ SIGHTLINE_CONFIG_DIR: configDir });
  return { ...app, configDir };
}

export type TestBridge = {
  call<M extends ApiMethod>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  runs: RunState[];
  close(): void;
};

/** The test's own connection to the app, beside the page's: it starts plans and reads the host status. */
export async function connectTestBridge(appUrl: string): Promise<TestBridge> {
  const url = new URL(appUrl);
  const token = new URLSearchParams(url.hash.slice(1)).get("token") ?? "";
  const socket = new WebSocket(`ws://${url.host}${BRIDGE_PATH}?token=${encodeURIComponent(token)}`);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const runs: RunState[] = [];
  let nextId = 1;
  socket.on("message", (data) => {
    const frame = BridgeServerFrame.parse(JSON.parse(String(data)));
    if (frame.kind === "event") {
      if (frame.event === "run") runs.push(frame.payload as RunState);
      return;
    }
    const call = waiting.get(frame.id);
    waiting.delete(frame.id);
    if (frame.ok) call?.resolve(frame.value);
    else call?.reject(Object.assign(new Error(frame.error.message), { code: frame.error.code }));
  });
  return {
    runs,
    call: async (method, input) => {
      const id = nextId++;
      const value = await new Promise<unknown>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        socket.send(JSON.stringify({ kind: "call", id, method, input }));
      });
      return API_METHODS[method].output.parse(value) as never;
    },
    close: () => socket.close(),
  };
}

/** A real window on the X display with three buttons; it records which were really clicked. */
export type TargetWindow = {
  browser: Browser;
  page: Page;
  /** The centre of a button in desktop pixels, as a plan's point target. */
  point(id: string): Promise<{ kind: "point"; space: "desktop_px"; x: number; y: number }>;
  clicks(): Promise<string[]>;
  reset(): Promise<void>;
};

const TARGET_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>Drafts</title></head>
<body style="margin:0;background:#fff;font:22px 'DejaVu Sans',sans-serif;color:#111">
  <h1 style="position:absolute;left:60px;top:40px;margin:0;font-size:34px;font-weight:normal">Quarterly report draft</h1>
  <button id="delete" style="position:absolute;left:60px;top:160px;font-size:26px;padding:10px 22px">Delete draft</button>
  <button id="save" style="position:absolute;left:360px;top:160px;font-size:26px;padding:10px 22px">Save</button>
  <button id="archive" style="position:absolute;left:560px;top:160px;font-size:26px;padding:10px 22px">Archive</button>
  <script>
    window.clicked = [];
    for (const b of document.querySelectorAll("button")) b.addEventListener("click", () => window.clicked.push(b.id));
  </script>
</body></html>`;

export async function openTargetWindow(): Promise<TargetWindow> {
  if (!process.env.DISPLAY) throw new Error("the renderer end-to-end tests need an X display (scripts/test-e2e.sh)");
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: false,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--window-position=200,150",
      "--window-size=1000,500",
      "--disable-infobars",
    ],
  });
  const page = await (await browser.newContext({ viewport: null })).newPage();
  await page.setContent(TARGET_HTML);
  await page.bringToFront();
  return {
    browser,
    page,
    point: async (id) => {
      const box = await page.evaluate((buttonId) => {
        const left = window.screenX + (window.outerWidth - window.innerWidth) / 2;
        const top = window.screenY + (window.outerHeight - window.innerHeight);
        const r = (document.getElementById(buttonId) as HTMLElement).getBoundingClientRect();
        return { x: left + r.left + r.width / 2, y: top + r.top + r.height / 2 };
      }, id);
      return { kind: "point", space: "desktop_px", x: Math.round(box.x), y: Math.round(box.y) };
    },
    clicks: () => page.evaluate(() => (window as unknown as { clicked: string[] }).clicked),
    reset: async () => {
      await page.evaluate(() => {
        (window as unknown as { clicked: string[] }).clicked = [];
      });
      await page.bringToFront();
    },
  };
}

const click = async (target: TargetWindow, id: string) =>
  ({ type: "click", target: await target.point(id), button: "left", count: 1 }) as const;

/** A no-risk wait, a high-risk "Delete" click, then three low-risk clicks, against the target window. */
export async function draftPlan(target: TargetWindow): Promise<Plan> {
  return {
    steps: [
      { description: "Wait for the window to settle", action: { type: "wait", ms: 200 } },
      { description: "Click **Delete draft**", action: await click(target, "delete") },
      { description: "Click **Save**", action: await click(target, "save") },
      { description: "Click **Archive**", action: await click(target, "archive") },
      { description: "Click **Save** again", action: await click(target, "save") },
    ],
  };
}

/** Two low-risk clicks: a plan to stop at its first question. */
export async function savePlan(target: TargetWindow): Promise<Plan> {
  return {
    steps: [
      { description: "Click **Save**", action: await click(target, "save") },
      { description: "Click **Archive**", action: await click(target, "archive") },
    ],
  };
}

/** A click on an element no observation has: the step fails, and the run with it. */
export const brokenPlan: Plan = {
  steps: [
    {
      description: "Click the **Publish** button",
      action: { type: "click", target: { kind: "element", elementId: 999 }, button: "left", count: 1 },
    },
  ],
};

export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export async function openOverlay(page: Page, appUrl: string): Promise<void> {
  await page.goto(appUrl);
  await expect(page.getByTestId("host-status")).toContainText("Host ready", { timeout: 90_000 });
}

/** Fails the test on any console error or CSP violation the page reports. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  return errors;
}

/** What an overlay spec works with: the app, the test's own bridge, a target window and the overlay page. */
export type OverlaySession = {
  app: HeadlessApp & { configDir: string };
  bridge: TestBridge;
  target: TargetWindow;
  page: Page;
};

/**
 * Registers the hooks every overlay spec shares (call it at the top of a serial
 * spec): a target window, the app, a bridge and the overlay page before the
 * first test; after each test, no console error or CSP violation on the page;
 * everything closed after the last. The fields are set once the first
 * beforeAll has run, so a spec's own beforeAll may read them.
 */
export function registerOverlaySession(): OverlaySession {
  const session: Partial<OverlaySession> = {};
  let pageErrors: string[] = [];
  test.beforeAll(async ({ browser }) => {
    session.target = await openTargetWindow();
    session.app = await startRendererApp();
    session.bridge = await connectTestBridge(session.app.url);
    session.page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    pageErrors = collectPageErrors(session.page);
    await openOverlay(session.page, session.app.url);
  });
  test.afterEach(() => {
    // Bridge reconnects while the host restarts are expected; nothing else may log an error.
    expect(pageErrors.join("\n"), "console errors or CSP violations on the overlay page").toBe("");
  });
  test.afterAll(async () => {
    session.bridge?.close();
    await session.app?.stop();
    await session.target?.browser.close();
  });
  return new Proxy(session, {
    get(fields, key: keyof OverlaySession) {
      const value = fields[key];
      if (value === undefined) throw new Error(`the overlay session's ${key} is read before its beforeAll ran`);
      return value;
    },
  }) as OverlaySession;
}
