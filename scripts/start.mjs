#!/usr/bin/env node
/**
 * `npm start`: builds the app, then opens it in Electron — or, where no Electron
 * binary is installed (a headless server), runs the headless entry and prints
 * the address to open in a browser.
 */
import { execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
execFileSync(bin("electron-vite"), ["build"], { stdio: "inherit", cwd: root });

let electronPath;
try {
  electronPath = createRequire(import.meta.url)("electron");
} catch {
  electronPath = undefined;
}

const [cmd, args] =
  typeof electronPath === "string" && !process.argv.includes("--headless")
    ? [electronPath, [root]]
    : [process.execPath, [join(root, "out", "main", "headless.js")]];
if (cmd === process.execPath) console.error("No Electron binary here: starting headless. Open the URL it prints.");
const child = spawn(cmd, args, { stdio: "inherit", cwd: root });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
