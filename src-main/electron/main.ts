/**
 * Electron's window plumbing: the only module (with its small helpers here)
 * that imports 'electron'. All the work happens in Services, which the
 * headless entry runs the same way. This file is typechecked, not run, on
 * machines without an Electron binary.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  app,
  BrowserWindow,
  globalShortcut,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  ipcMain,
  Menu,
  nativeImage,
  screen,
  session,
  shell,
  Tray,
} from "electron";
import {
  API_EVENTS,
  type ApiEvent,
  dispatchCall,
  type RunState,
  Settings,
  toApiError,
} from "../../src-shared/bridge-api";
import { OverlayCurtain } from "../capture/overlay-curtain";
import { setWorkAreaSource, workAreasFromElectron } from "../capture/work-area";
import { Services } from "../services";
import { CHANNELS, OVERLAY_COMMANDS, type OVERLAY_VIEWS } from "./channels";
import { trayIconBitmap } from "./tray-icon";

type OverlayView = (typeof OVERLAY_VIEWS)[number];

const OVERLAY_SIZE = { width: 820, height: 640 };
/** The compositor needs a frame or two to take a hidden window off the screen. */
const HIDE_SETTLE_MS = 120;

/** The same policy as src-renderer/index.html, also sent as a header for the dev server's pages. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'";

const devServerUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const rendererFile = join(import.meta.dirname, "../renderer/index.html");
const appPage = devServerUrl ? new URL(devServerUrl) : pathToFileURL(rendererFile);

let overlay: BrowserWindow | undefined;
let tray: Tray | undefined;
let quitting = false;
let steppedAsideForAction = false;
/** Aborted by the kill-switch hotkey; replaced after each use so later runs get a live signal. */
let killController = new AbortController();

const log = (line: string) => console.error(`[sightline] ${line}`);

/** Our own page, and nothing else: the built file, or the dev server's origin while developing. */
function isAppPage(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    if (appPage.protocol === "file:") return parsed.protocol === "file:" && parsed.pathname === appPage.pathname;
    return parsed.origin === appPage.origin;
  } catch {
    return false;
  }
}

/** Only the overlay's own top frame, showing our own page, may use the API or the window channel. */
function trustedSender(event: IpcMainEvent | IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame;
  return (
    overlay !== undefined &&
    !overlay.isDestroyed() &&
    event.sender === overlay.webContents &&
    frame !== null &&
    frame === overlay.webContents.mainFrame &&
    isAppPage(frame.url)
  );
}

function live(win: BrowserWindow | undefined): win is BrowserWindow {
  return win !== undefined && !win.isDestroyed();
}

function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, "Content-Security-Policy": [CSP] } });
  });
}

/** Every web contents, present or future: no new windows, no navigation away, no webviews. */
function hardenContents(): void {
  app.on("web-contents-created", (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: "deny" }));
    contents.on("will-navigate", (event, url) => {
      if (!isAppPage(url)) event.preventDefault();
    });
    contents.on("will-redirect", (event, url) => {
      if (!isAppPage(url)) event.preventDefault();
    });
    contents.on("will-attach-webview", (event) => event.preventDefault());
  });
}

function createOverlay(): BrowserWindow {
  const win = new BrowserWindow({
    ...OVERLAY_SIZE,
    show: false,
    frame: false,
    transparent: true,
    backgroundColor: "#00000000",
    hasShadow: false,
    resizable: false,
    fullscreenable: false,
    skipTaskbar: true,
    alwaysOnTop: true,
    title: "Sightline",
    webPreferences: {
      preload: join(import.meta.dirname, "../preload/index.cjs"),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  // "floating" keeps it above normal windows without covering system dialogs.
  win.setAlwaysOnTop(true, "floating");
  win.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true });
  // Closing the overlay hides it: the app lives on in the tray until Quit.
  win.on("close", (event) => {
    if (quitting) return;
    event.preventDefault();
    win.hide();
  });
  win.once("ready-to-show", () => showOverlay("run"));
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(rendererFile);
  return win;
}

/** Shows the overlay on the display under the cursor, focused, and tells the page which view to show. */
function showOverlay(view: OverlayView): void {
  if (!live(overlay)) return;
  const { workArea } = screen.getDisplayNearestPoint(screen.getCursorScreenPoint());
  const width = Math.min(OVERLAY_SIZE.width, workArea.width);
  const height = Math.min(OVERLAY_SIZE.height, workArea.height);
  overlay.setBounds({
    x: Math.round(workArea.x + (workArea.width - width) / 2),
    y: Math.round(workArea.y + Math.min(workArea.height * 0.12, workArea.height - height)),
    width,
    height,
  });
  overlay.show();
  overlay.focus();
  overlay.webContents.send(CHANNELS.overlayView, view);
}

function toggleOverlay(): void {
  if (!live(overlay)) return;
  if (overlay.isVisible() && overlay.isFocused()) overlay.hide();
  else showOverlay("run");
}

/** The overlay must never be in a screenshot the planner reads: hidden, and gone, before every capture. */
const captureCurtain = new OverlayCurtain(
  {
    isVisible: () => live(overlay) && overlay.isVisible(),
    hide: () =>
      new Promise<void>((resolve) => {
        if (!live(overlay)) return resolve();
        overlay.once("hide", () => resolve());
        overlay.hide();
      }),
    show: () => {
      if (!live(overlay)) return;
      // Focused again: the confirmation dialog's keys must reach it.
      overlay.show();
      overlay.focus();
    },
  },
  { settleMs: HIDE_SETTLE_MS },
);

/**
 * While a confirmed step acts, the overlay steps aside so the click or the
 * keys land on the desktop, not on it; it comes back for the next question
 * and when the run ends. Best effort: RunManager has no hook that waits for
 * the window to be gone before acting (see the report of issue 7).
 */
function followRunForActions(run: RunState): void {
  if (!live(overlay)) return;
  const acting = run.stage === "executing" || run.stage === "verifying";
  if (acting && overlay.isVisible()) {
    steppedAsideForAction = true;
    overlay.hide();
  } else if (!acting && steppedAsideForAction) {
    steppedAsideForAction = false;
    overlay.show();
    overlay.focus();
  }
}

function registerHotkeys(settings: Settings): void {
  globalShortcut.unregisterAll();
  const bindings: Array<[string, string, () => void]> = [
    ["overlay", settings.hotkeys.overlay, toggleOverlay],
    ["kill switch", settings.hotkeys.killSwitch, killEverything],
    ["record", settings.hotkeys.record, toggleRecording],
  ];
  for (const [name, accelerator, action] of bindings) {
    try {
      if (!globalShortcut.register(accelerator, action))
        log(`the ${name} hotkey ${accelerator} is taken by another app`);
    } catch (error) {
      log(`the ${name} hotkey ${accelerator} is not a valid accelerator: ${(error as Error).message}`);
    }
  }
}

let services: Services | undefined;

/** The record hotkey and the tray item: start a recording (and show the Record view), or stop the one running. */
function toggleRecording(): void {
  const handlers = services?.handlers;
  if (!handlers) return;
  void (async () => {
    try {
      const state = await handlers.recordingState({});
      if (state.phase === "recording") {
        await handlers.recordingStop({});
        showOverlay("record");
      } else if (state.phase === "idle") {
        showOverlay("record");
        await handlers.recordingStart({});
      }
    } catch (error) {
      log(`recording: ${(error as Error).message}`);
    }
  })();
}

/** The overlay on the screen while it shows, in desktop physical pixels: clicks on it are not recorded. */
function ownWindows(): Array<{ x: number; y: number; width: number; height: number }> {
  if (!live(overlay) || !overlay.isVisible()) return [];
  const b = overlay.getBounds();
  const scale = screen.getDisplayMatching(b).scaleFactor;
  return [{ x: b.x * scale, y: b.y * scale, width: b.width * scale, height: b.height * scale }];
}

async function openFolder(folder: string): Promise<boolean> {
  // shell.openPath answers "" when the file manager took it, an error message otherwise.
  const error = await shell.openPath(folder);
  if (error) log(`could not open ${folder}: ${error}`);
  return error === "";
}

function killEverything(): void {
  killController.abort(new Error("stopped by the kill switch"));
  killController = new AbortController();
}

function createTray(): Tray {
  const icon = nativeImage.createFromBitmap(trayIconBitmap(16), { width: 16, height: 16 });
  const created = new Tray(icon);
  created.setToolTip("Sightline");
  created.setContextMenu(
    Menu.buildFromTemplate([
      { label: "Show Sightline", click: () => showOverlay("run") },
      { label: "Record a tutorial", click: toggleRecording },
      { label: "VRAM panel", click: () => showOverlay("vram") },
      { label: "Settings…", click: () => showOverlay("settings") },
      { type: "separator" },
      { label: "Quit Sightline", click: () => app.quit() },
    ]),
  );
  created.on("click", toggleOverlay);
  return created;
}

function serveApi(services: Services): void {
  ipcMain.handle(CHANNELS.call, async (event, method: unknown, input: unknown) => {
    if (!trustedSender(event)) return { ok: false, error: { code: "forbidden", message: "unknown sender" } };
    try {
      const value = await dispatchCall(services.handlers, String(method), input);
      if (method === "updateSettings") registerHotkeys(Settings.parse(value));
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: toApiError(error) };
    }
  });
  ipcMain.on(CHANNELS.overlayCommand, (event, command: unknown) => {
    if (!trustedSender(event) || !OVERLAY_COMMANDS.includes(command as (typeof OVERLAY_COMMANDS)[number])) return;
    if (command === "hide") overlay?.hide();
  });
  for (const event of Object.keys(API_EVENTS) as ApiEvent[]) {
    services.on(event, (payload) => {
      if (live(overlay)) overlay.webContents.send(CHANNELS.event, event, payload);
    });
  }
  services.on("run", followRunForActions);
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  // Every renderer sandboxed, whatever a window's own preferences say.
  app.enableSandbox();
  hardenContents();
  await app.whenReady();
  hardenSession();
  // Electron knows each display's work area (panels, docks, on every platform); captures report it.
  setWorkAreaSource(async (displays) => workAreasFromElectron(displays, screen.getAllDisplays()));

  const running = new Services({
    beforeCapture: () => captureCurtain.beforeCapture(),
    afterCapture: () => captureCurtain.afterCapture(),
    killSignal: () => killController.signal,
    ownWindows,
    openFolder,
  });
  services = running;
  serveApi(running);
  overlay = createOverlay();
  tray = createTray();
  registerHotkeys(await running.settings.get());

  app.on("second-instance", () => showOverlay("run"));
  // The tray keeps the app alive with no window open.
  app.on("window-all-closed", () => {});
  app.on("will-quit", () => globalShortcut.unregisterAll());
  app.on("before-quit", (event) => {
    quitting = true;
    tray?.destroy();
    if (running.supervisor.state.phase === "stopped") return;
    event.preventDefault();
    void running.stop().finally(() => app.quit());
  });
  await running.start();
}

void main();
