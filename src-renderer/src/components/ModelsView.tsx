import { useEffect, useRef } from "react";
import type { ModelInfo, ModelPullState } from "../../../src-shared/bridge-api";
import { canPull, pullLabel, STATE_TEXT } from "../format/models";
import { formatBytes } from "../format/vram";
import { useApp } from "../state/hooks";
import { shownModels } from "../state/models-slice";
import { PullStatus } from "./PullStatus";

/** The catalog's models: role, size, whether the host's store has them, which profiles use them; pull the missing. */
export function ModelsView() {
  const list = useApp((s) => s.modelList);
  const pulls = useApp((s) => s.pulls);
  const load = useApp((s) => s.loadModels);
  const showView = useApp((s) => s.showView);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  const models = shownModels(list);

  return (
    <section className="models" aria-labelledby="models-heading" data-testid="models-view">
      <div className="models-head">
        <h2 id="models-heading" ref={heading} tabIndex={-1}>
          Models
        </h2>
        <button type="button" className="ghost" onClick={() => void load()} disabled={list.status === "loading"}>
          {list.status === "loading" ? "Refreshing…" : "Refresh"}
        </button>
        <button
          type="button"
          className="ghost"
          onClick={() => showView("run")}
          aria-keyshortcuts="Escape"
          aria-label="Close the Models view"
        >
          Close <kbd>Esc</kbd>
        </button>
      </div>
      {list.status === "error" ? (
        <p role="alert" className="banner banner-failed" data-testid="models-error">
          Cannot list the models: {list.error.message}
        </p>
      ) : null}
      {!models ? (
        <p className="muted">Asking the inference host…</p>
      ) : (
        <ul className="model-list" aria-label="Models of the catalog">
          {models.map((model) => (
            <ModelRow key={model.model_id} model={model} pull={pulls[model.model_id]} />
          ))}
        </ul>
      )}
    </section>
  );
}

function ModelRow({ model, pull }: { model: ModelInfo; pull: ModelPullState | undefined }) {
  const start = useApp((s) => s.pullModel);
  const cancel = useApp((s) => s.cancelPull);
  const pulling = pull?.status === "pulling";
  const headingId = `model-${model.model_id}`;
  return (
    <li className="model-row" aria-labelledby={headingId} data-testid="model-row" data-model={model.model_id}>
      <div className="model-main">
        <h3 id={headingId}>
          {model.name} <span className="muted model-id">{model.model_id}</span>
        </h3>
        <dl className="model-facts">
          <dt>Role</dt>
          <dd>{model.role}</dd>
          <dt>Size</dt>
          <dd>{sizeText(model)}</dd>
          <dt>Used by</dt>
          <dd>{model.profiles.length ? model.profiles.join(", ") : "no profile"}</dd>
        </dl>
        <p className="muted model-detail">{model.detail}</p>
      </div>
      <div className="model-side">
        <span
          className={`model-state state-${pulling ? "pulling" : model.state}`}
          data-testid="model-state"
          data-state={model.state}
        >
          {pulling ? "Pulling…" : STATE_TEXT[model.state]}
        </span>
        {canPull(model) && !pulling ? (
          <button
            type="button"
            className="primary"
            onClick={() => void start(model.model_id)}
            aria-label={`${pullLabel(model)} ${model.name}`}
          >
            {pullLabel(model)}
          </button>
        ) : null}
      </div>
      {model.source === "package" && model.state === "not_installed" ? (
        <p className="model-wide">
          Install its package: <code>{model.command}</code>
        </p>
      ) : null}
      {pull ? (
        <div className="model-wide">
          <PullStatus name={model.name} state={pull} onCancel={() => void cancel(model.model_id)} />
        </div>
      ) : null}
    </li>
  );
}

/** A partial pull's size is what it has so far; a hub model the catalog lists by pattern has none until pulled. */
function sizeText(model: ModelInfo): string {
  if (model.size_bytes === null) return "not known until pulled";
  return model.state === "partial" ? `${formatBytes(model.size_bytes)} so far` : formatBytes(model.size_bytes);
}
