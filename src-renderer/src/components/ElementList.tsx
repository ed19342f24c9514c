import { useAssistant } from "../store";

const px = (n: number) => Math.round(n);

export function ElementList() {
  const outcome = useAssistant((s) => s.outcome);
  if (!outcome) return null;
  const { display, elements, timingsMs } = outcome;
  return (
    <section aria-label="Elements found" className="elements">
      <p className="summary" data-testid="summary">
        {elements.length} elements on {display.name} ({display.bounds.width}×{display.bounds.height}) · capture{" "}
        {px(timingsMs.capture)} ms · observe {px(timingsMs.observe)} ms
      </p>
      <ol data-testid="element-list">
        {elements.map((element) => (
          <li
            key={element.id}
            data-testid="element"
            data-text={element.text}
            data-box={JSON.stringify(element.box)}
            data-confidence={element.confidence}
          >
            <span className="element-id">{element.id}</span>
            <span className="element-text">{element.text}</span>
            <span className="element-box">
              {px(element.box.x)},{px(element.box.y)} {px(element.box.width)}×{px(element.box.height)}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
