/** The settings form's fields, to and from `Settings`, with messages per field. Pure, for the form and the tests. */
import { Settings } from "../../../src-shared/bridge-api";

export type SettingsDraft = {
  overlayHotkey: string;
  killSwitchHotkey: string;
  recordHotkey: string;
  confirmation: Settings["confirmation"];
  hostMode: Settings["host"]["mode"];
  hostUrl: string;
  hostToken: string;
  profile: Settings["profile"];
  theme: Settings["theme"];
  /** Tutorial recording's privacy switches, as they are. */
  recording: Settings["recording"];
};

export type DraftField = keyof SettingsDraft;
export type DraftErrors = Partial<Record<DraftField, string>>;

export function toDraft(settings: Settings): SettingsDraft {
  return {
    overlayHotkey: settings.hotkeys.overlay,
    killSwitchHotkey: settings.hotkeys.killSwitch,
    recordHotkey: settings.hotkeys.record,
    confirmation: settings.confirmation,
    hostMode: settings.host.mode,
    hostUrl: settings.host.mode === "remote" ? settings.host.url : "",
    hostToken: settings.host.mode === "remote" ? settings.host.token : "",
    profile: settings.profile,
    theme: settings.theme,
    recording: { ...settings.recording },
  };
}

const MODIFIER = /^(CommandOrControl|CmdOrCtrl|Command|Cmd|Control|Ctrl|Alt|Option|AltGr|Shift|Super|Meta)$/i;

/** Electron accelerators: modifiers joined by "+", then exactly one key that is not a modifier. */
export function acceleratorProblem(text: string): string | undefined {
  const parts = text.split("+").map((part) => part.trim());
  if (parts.some((part) => part === "")) return "Write it as Modifier+Key, e.g. CommandOrControl+Shift+Space.";
  const key = parts.at(-1) ?? "";
  if (MODIFIER.test(key)) return "End with a key that is not a modifier (Space, K, F5…).";
  if (parts.slice(0, -1).some((part) => !MODIFIER.test(part))) return "Only modifiers may come before the last key.";
  if (parts.length < 2 && !/^F\d{1,2}$/i.test(key)) return "Use at least one modifier, so typing cannot trigger it.";
  return undefined;
}

const PATH_TO_FIELD: Record<string, DraftField> = {
  "hotkeys.overlay": "overlayHotkey",
  "hotkeys.killSwitch": "killSwitchHotkey",
  "hotkeys.record": "recordHotkey",
  confirmation: "confirmation",
  "host.url": "hostUrl",
  "host.token": "hostToken",
  host: "hostMode",
  profile: "profile",
  theme: "theme",
};

const FRIENDLY: Partial<Record<DraftField, string>> = {
  hostUrl: "Enter the host's address, e.g. http://192.168.1.20:8765.",
  hostToken: "The token is the 16 or more characters the host printed when it started.",
};

/** The settings to save, or a message for each field that is wrong. */
export function fromDraft(draft: SettingsDraft): { settings: Settings } | { errors: DraftErrors } {
  const errors: DraftErrors = {};
  const hotkeys = {
    overlayHotkey: draft.overlayHotkey,
    killSwitchHotkey: draft.killSwitchHotkey,
    recordHotkey: draft.recordHotkey,
  } as const;
  for (const [field, value] of Object.entries(hotkeys) as [DraftField, string][]) {
    const problem = acceleratorProblem(value.trim());
    if (problem) errors[field] = problem;
  }
  const values = Object.values(hotkeys).map((v) => v.trim().toLowerCase());
  if (new Set(values).size !== values.length && !errors.recordHotkey) errors.recordHotkey = "Each hotkey must differ.";

  const parsed = Settings.safeParse({
    hotkeys: {
      overlay: draft.overlayHotkey.trim(),
      killSwitch: draft.killSwitchHotkey.trim(),
      record: draft.recordHotkey.trim(),
    },
    confirmation: draft.confirmation,
    host:
      draft.hostMode === "remote"
        ? { mode: "remote", url: draft.hostUrl.trim(), token: draft.hostToken.trim() }
        : { mode: "local" },
    profile: draft.profile,
    theme: draft.theme,
    recording: draft.recording,
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = PATH_TO_FIELD[issue.path.join(".")] ?? PATH_TO_FIELD[String(issue.path[0])];
      if (field && !errors[field]) errors[field] = FRIENDLY[field] ?? issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { errors };
  return { settings: parsed.data };
}
