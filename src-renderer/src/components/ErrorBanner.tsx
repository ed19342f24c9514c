import { useAssistant } from "../store";

const HINTS: Record<string, string> = {
  disconnected: "The inference host is not reachable; Sightline restarts it by itself. Try again in a moment.",
  timeout: "The inference host took too long. Try again.",
  model_unavailable: "A model is missing. See the README's section on models.",
  image_too_large: "The screen is larger than the host accepts.",
  busy: "Sightline is still reading the previous screen; try again when it answers.",
};

export function ErrorBanner() {
  const error = useAssistant((s) => s.error);
  if (!error) return null;
  return (
    <div role="alert" className="error" data-testid="error" data-code={error.code}>
      <strong>{error.message}</strong>
      {HINTS[error.code] ? <p>{HINTS[error.code]}</p> : null}
    </div>
  );
}
