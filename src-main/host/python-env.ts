import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The folder holding `inference/`: found by walking up, since bundling moves this module's code. */
export function projectRoot(): string {
  if (process.env.SIGHTLINE_ROOT) return process.env.SIGHTLINE_ROOT;
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "inference", "pyproject.toml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find Sightline's inference/ folder above ${import.meta.dirname}`);
  }
}

/** The project's own Python environment, created by `npm install` (scripts/setup-python.mjs). */

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
