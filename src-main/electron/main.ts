/**
 * Electron's window plumbing: the only module that imports 'electron'. All the
 * work happens in Services, which the headless entry runs the same way.
 */
import { join } from "node:path";
import { app, BrowserWindow, ipcMain } from "electron";
import { API_EVENTS, type ApiEvent, dispatchCall, toApiError } from "../../src-shared/bridge-api";
import { Services } from "../services";

const CALL_CHANNEL = "sightline:call";
const EVENT_CHANNEL = "sightline:event";

let window: BrowserWindow | undefined;

async function hideForCapture(): Promise<void> {
  if (!window?.isVisible()) return;
  window.hide();
  // The compositor needs a frame to take the window off screen before the capture.
  await new Promise((resolve) => setTimeout(resolve, 80));
}

async function showAfterCapture(): Promise<void> {
  window?.showInactive();
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 820,
    height: 640,
    show: false,
    webPreferences: {
      preload: join(import.meta.dirname, "../preload/index.cjs"),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  win.once("ready-to-show", () => win.show());
  win.webContents.setWindowOpenHandler(() => ({ action: "deny" }));
  win.webContents.on("will-navigate", (event) => event.preventDefault());
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(import.meta.dirname, "../renderer/index.html"));
  return win;
}

async function main(): Promise<void> {
  await app.whenReady();
  const services = new Services({ beforeCapture: hideForCapture, afterCapture: showAfterCapture });
  window = createWindow();

  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, input: unknown) => {
    // Only our own window's top frame may call the API.
    if (event.sender !== window?.webContents || event.senderFrame !== window.webContents.mainFrame) {
      return { ok: false, error: { code: "forbidden", message: "unknown sender" } };
    }
    try {
      return { ok: true, value: await dispatchCall(services.handlers, String(method), input) };
    } catch (error) {
      return { ok: false, error: toApiError(error) };
    }
  });
  for (const event of Object.keys(API_EVENTS) as ApiEvent[]) {
    services.on(event, (payload) => window?.webContents.send(EVENT_CHANNEL, event, payload));
  }

  app.on("window-all-closed", () => app.quit());
  app.on("before-quit", (event) => {
    if (services.supervisor.state.phase === "stopped") return;
    event.preventDefault();
    void services.stop().finally(() => app.quit());
  });
  await services.start();
}

void main();
