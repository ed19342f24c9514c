import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import type { Settings } from "../../../src-shared/bridge-api";
import { useApp } from "../state/hooks";
import { type DraftErrors, type DraftField, fromDraft, type SettingsDraft, toDraft } from "../state/settings-form";

const PROFILES: Record<Settings["profile"], string> = {
  embedded: "Embedded — CPU only, small models that come with Sightline",
  "single-gpu": "Single GPU — Molmo, YOLO-World and an 8B planner",
  workstation: "Workstation — a 70B-class planner over several GPUs",
};

/** Hotkeys, confirmation policy, host location, model profile and theme; saved, then shown as read back. */
export function SettingsView() {
  const settings = useApp((s) => s.settings);
  const status = useApp((s) => s.settingsStatus);
  const error = useApp((s) => s.settingsError);
  const load = useApp((s) => s.loadSettings);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
  }, []);

  return (
    <section className="settings" aria-labelledby="settings-heading">
      <h2 id="settings-heading" ref={heading} tabIndex={-1}>
        Settings
      </h2>
      {settings ? (
        <SettingsForm key={JSON.stringify(settings)} settings={settings} />
      ) : status === "error" ? (
        <div role="alert" className="error">
          Could not read the settings: {error?.message}{" "}
          <button type="button" onClick={() => void load()}>
            Try again
          </button>
        </div>
      ) : (
        <p className="muted">Reading the settings…</p>
      )}
    </section>
  );
}

const RECORDING_PRIVACY: Record<keyof Settings["recording"], string> = {
  maskAllTyping: "Keep no typed text at all",
  maskUnidentifiedFields: "Keep no typed text when no click showed which field it went into",
  redactEmails: "Blur e-mail addresses in the screenshots",
  redactCardNumbers: "Blur card numbers in the screenshots",
};

function SettingsForm({ settings }: { settings: Settings }) {
  const save = useApp((s) => s.saveSettings);
  const status = useApp((s) => s.settingsStatus);
  const saveError = useApp((s) => s.settingsError);
  const showView = useApp((s) => s.showView);
  const [draft, setDraft] = useState<SettingsDraft>(() => toDraft(settings));
  const [errors, setErrors] = useState<DraftErrors>({});
  const [edited, setEdited] = useState(false);

  const set = <F extends DraftField>(field: F, value: SettingsDraft[F]) => {
    setDraft((d) => ({ ...d, [field]: value }));
    setEdited(true);
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const result = fromDraft(draft);
    if ("errors" in result) {
      setErrors(result.errors);
      const first = Object.keys(result.errors)[0];
      if (first) document.getElementById(`settings-${first}`)?.focus();
      return;
    }
    setErrors({});
    if (await save(result.settings)) setEdited(false);
  };

  return (
    <form onSubmit={(event) => void onSubmit(event)} noValidate aria-label="Settings">
      <fieldset>
        <legend>Hotkeys</legend>
        <TextField field="overlayHotkey" label="Show the overlay" draft={draft} errors={errors} onChange={set} />
        <TextField
          field="killSwitchHotkey"
          label="Stop everything (kill switch)"
          draft={draft}
          errors={errors}
          onChange={set}
        />
        <TextField field="recordHotkey" label="Record a tutorial" draft={draft} errors={errors} onChange={set} />
        <p className="hint">Electron accelerators, such as CommandOrControl+Shift+Space.</p>
      </fieldset>

      <Choice
        legend="Confirmation"
        name="confirmation"
        value={draft.confirmation}
        onChange={(v) => set("confirmation", v)}
        options={{
          each: "Ask before every step",
          "batch-low-risk": "Ask once for a run of low-risk steps (risky steps always ask)",
        }}
      />

      <fieldset>
        <legend>Inference host</legend>
        <RadioGroup
          name="hostMode"
          value={draft.hostMode}
          onChange={(v) => set("hostMode", v)}
          options={{ local: "On this computer (started by Sightline)", remote: "On another computer of mine" }}
        />
        {draft.hostMode === "remote" ? (
          <>
            <TextField field="hostUrl" label="Host address" type="url" draft={draft} errors={errors} onChange={set} />
            <TextField
              field="hostToken"
              label="Host token"
              type="password"
              draft={draft}
              errors={errors}
              onChange={set}
            />
          </>
        ) : null}
      </fieldset>

      <div className="field">
        <label htmlFor="settings-profile">Model profile</label>
        <select
          id="settings-profile"
          value={draft.profile}
          onChange={(event) => set("profile", event.target.value as Settings["profile"])}
        >
          {(Object.keys(PROFILES) as Settings["profile"][]).map((profile) => (
            <option key={profile} value={profile}>
              {PROFILES[profile]}
            </option>
          ))}
        </select>
      </div>

      <fieldset>
        <legend>Tutorial recording privacy</legend>
        {(Object.keys(RECORDING_PRIVACY) as Array<keyof Settings["recording"]>).map((key) => (
          <label key={key} className="check" htmlFor={`settings-recording-${key}`}>
            <input
              id={`settings-recording-${key}`}
              type="checkbox"
              checked={draft.recording[key]}
              onChange={(event) => set("recording", { ...draft.recording, [key]: event.target.checked })}
            />{" "}
            {RECORDING_PRIVACY[key]}
          </label>
        ))}
      </fieldset>

      <Choice
        legend="Theme"
        name="theme"
        value={draft.theme}
        onChange={(v) => set("theme", v)}
        options={{ system: "Follow the system", light: "Light", dark: "Dark" }}
      />

      <div className="form-actions">
        <button type="submit" className="primary" disabled={status === "saving"}>
          Save settings
        </button>
        <button type="button" onClick={() => showView("run")}>
          Close
        </button>
        <output data-testid="settings-status">
          {status === "saving"
            ? "Saving…"
            : status === "saved" && !edited
              ? "Saved."
              : edited
                ? "Unsaved changes."
                : ""}
        </output>
      </div>
      {status === "error" && saveError ? (
        <p role="alert" className="field-error">
          Not saved: {saveError.message}
        </p>
      ) : null}
    </form>
  );
}

type TextFieldProps = {
  field: "overlayHotkey" | "killSwitchHotkey" | "recordHotkey" | "hostUrl" | "hostToken";
  label: string;
  type?: "text" | "url" | "password";
  draft: SettingsDraft;
  errors: DraftErrors;
  onChange: (field: TextFieldProps["field"], value: string) => void;
};

function TextField({ field, label, type = "text", draft, errors, onChange }: TextFieldProps) {
  const id = `settings-${field}`;
  const error = errors[field];
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={draft[field]}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(event) => onChange(field, event.target.value)}
      />
      {error ? (
        <span id={`${id}-error`} className="field-error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

function Choice<V extends string>(props: {
  legend: string;
  name: string;
  value: V;
  options: Record<V, string>;
  onChange: (value: V) => void;
}) {
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      <RadioGroup name={props.name} value={props.value} options={props.options} onChange={props.onChange} />
    </fieldset>
  );
}

function RadioGroup<V extends string>({
  name,
  value,
  options,
  onChange,
}: {
  name: string;
  value: V;
  options: Record<V, string>;
  onChange: (value: V) => void;
}): ReactNode {
  const prefix = useId();
  return (
    <div className="radios">
      {(Object.keys(options) as V[]).map((option) => (
        <label key={option} htmlFor={`${prefix}-${option}`}>
          <input
            id={`${prefix}-${option}`}
            type="radio"
            name={name}
            value={option}
            checked={value === option}
            onChange={() => onChange(option)}
          />{" "}
          {options[option]}
        </label>
      ))}
    </div>
  );
}
