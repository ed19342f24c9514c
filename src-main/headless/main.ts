/**
 * Sightline without Electron: the same main-process services, with the renderer
 * served to a browser and the preload API carried over a token-protected local
 * WebSocket. Prints one JSON line `{"event":"ready","url":...}` on stdout.
 */
import { join, resolve } from "node:path";
import { DEFAULT_KILL_HOTKEY, type Hotkey, hotkeyFromAccelerator, KillSwitch } from "../actions/kill-switch";
import { projectRoot } from "../host/python-env";
import { Services } from "../services";
import { startBridgeServer } from "./bridge-server";

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** The kill switch listens below every window; where no input hook can start (no display), runs go on without it. */
function armKillSwitch(killSwitch: KillSwitch): AbortSignal {
  try {
    return killSwitch.arm();
  } catch (error) {
    console.error(`kill switch unavailable: ${(error as Error).message}`);
    return new AbortController().signal;
  }
}

/** The kill switch's hotkey from the settings; the default where the setting names a key the hook cannot see. */
function killHotkey(services: Services | undefined): Hotkey {
  const accelerator = services?.settings.peek().hotkeys.killSwitch;
  try {
    return accelerator ? hotkeyFromAccelerator(accelerator) : DEFAULT_KILL_HOTKEY;
  } catch {
    return DEFAULT_KILL_HOTKEY;
  }
}

async function main(): Promise<void> {
  const root = projectRoot();
  let services: Services | undefined;
  const killSwitch = new KillSwitch(() => killHotkey(services));
  services = new Services({ root, killSignal: () => armKillSwitch(killSwitch) });
  const port = Number(argValue("--port") ?? process.env.SIGHTLINE_PORT ?? 0);
  const bridge = await startBridgeServer({
    services,
    rendererDir: resolve(argValue("--renderer") ?? join(root, "out", "renderer")),
    port,
  });
  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    killSwitch.dispose();
    await bridge.close();
    await services.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  process.stdout.write(`${JSON.stringify({ event: "ready", url: bridge.url })}\n`);
  console.error(`Sightline (headless) is at ${bridge.url}`);
  await services.start();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
