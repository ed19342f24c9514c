import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** The project's own Python environment, created by `npm install` (scripts/setup-python.mjs). */
export function projectRoot(): string {
  return process.env.SIGHTLINE_ROOT ?? resolve(import.meta.dirname, "..", "..");
}

export function hostPython(root = projectRoot()): string {
  const venv = join(root, "inference", ".venv");
  const python = process.platform === "win32" ? join(venv, "Scripts", "python.exe") : join(venv, "bin", "python");
  if (!existsSync(python)) {
    throw new Error(
      `The inference host's Python environment is missing (${python}). Run \`npm install\` to create it.`,
    );
  }
  return python;
}
