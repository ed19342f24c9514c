import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { Settings } from "../../src-shared/bridge-api";

export function defaultConfigDir(): string {
  if (process.env.SIGHTLINE_CONFIG_DIR) return process.env.SIGHTLINE_CONFIG_DIR;
  const base = process.env.XDG_CONFIG_HOME ?? join(homedir(), ".config");
  return join(base, "sightline");
}

/**
 * The user's settings in one JSON file. A file that no longer parses (hand
 * edited, or from another version) is kept aside rather than overwritten, and
 * the defaults are used; writes go through a temporary file and a rename, so a
 * crash mid-write never leaves half a file.
 */
export class SettingsStore {
  private current: Settings | undefined;
  readonly path: string;

  constructor(configDir = defaultConfigDir()) {
    this.path = join(configDir, "settings.json");
  }

  async get(): Promise<Settings> {
    this.current ??= await this.load();
    return this.current;
  }

  /** The settings as last read, or the defaults before the first read. */
  peek(): Settings {
    return this.current ?? Settings.parse({});
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = Settings.parse({ ...(await this.get()), ...patch });
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    // The remote host's token lives here: readable by the user only.
    await writeFile(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.path);
    this.current = next;
    return next;
  }

  private async load(): Promise<Settings> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch {
      return Settings.parse({});
    }
    try {
      const parsed = Settings.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
    } catch {
      // falls through to keeping the unreadable file aside
    }
    await rename(this.path, `${this.path}.unreadable-${Date.now()}`).catch(() => {});
    return Settings.parse({});
  }
}
