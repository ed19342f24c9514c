/**
 * Sightline without Electron: the same main-process services, with the renderer
 * served to a browser and the preload API carried over a token-protected local
 * WebSocket. Prints one JSON line `{"event":"ready","url":...}` on stdout.
 */
import { join, resolve } from "node:path";
import { projectRoot } from "../host/python-env";
import { Services } from "../services";
import { startBridgeServer } from "./bridge-server";

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const root = projectRoot();
  const services = new Services({ root });
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
