import { useApp } from "../state/hooks";

const px = (n: number) => Math.round(n);

/** What observe found on the screen, folded away: useful when a plan names an element by number. */
export function ElementList() {
  const run = useApp((s) => s.run);
  if (!run || run.elements.length === 0) return null;
  const { display, elements, timingsMs } = run;
  const timing = (name: string) => (timingsMs[name] === undefined ? "" : ` · ${name} ${px(timingsMs[name])} ms`);
  return (
    <details className="elements">
      <summary data-testid="summary">
        {elements.length} elements on the screen
        {display ? ` (${display.name}, ${display.bounds.width}×${display.bounds.height})` : ""}
        {timing("capture")}
        {timing("observe")}
        {timing("plan")}
      </summary>
      <ol data-testid="element-list">
        {elements.map((element) => (
          <li
            key={element.id}
            data-testid="element"
            data-text={element.text}
            data-box={JSON.stringify(element.box)}
            data-confidence={element.confidence}
          >
            <span className="element-id">#{element.id}</span>
            <span className="element-text">{element.text}</span>
            <span className="element-box">
              {element.kind} · {px(element.box.x)},{px(element.box.y)} {px(element.box.width)}×{px(element.box.height)}
            </span>
          </li>
        ))}
      </ol>
    </details>
  );
}
