import { PlanStep } from "../../src-shared/plan";

const STEPS_KEY = /"steps"\s*:\s*\[/;

/**
 * The steps of a plan that is still streaming, as each one completes: every
 * complete object of its "steps" array that parses as a PlanStep. They are for
 * showing only; a run executes nothing before the whole answer has parsed.
 *
 * The reader keeps its place, so each call scans only the text that arrived
 * since the last one and parses each step once, however long the plan grows.
 */
export class PartialPlanReader {
  private readonly steps: PlanStep[] = [];
  private scanned = 0;
  private arrayStart = -1;
  private depth = 0;
  private objectStart = -1;
  private inString = false;
  private escaped = false;
  /** The array ended, or an object that is not a valid step stopped the preview (rather than skip a step). */
  private finished = false;

  /** `text` is the whole answer so far (each call extends the last); returns every step complete in it. */
  read(text: string): readonly PlanStep[] {
    if (text.length < this.scanned) throw new Error("a streamed answer only grows");
    if (this.finished) return this.steps;
    if (this.arrayStart < 0) {
      const key = STEPS_KEY.exec(text);
      if (!key) return this.steps; // rescanning the short prefix is cheap, and the key may arrive split
      this.arrayStart = key.index + key[0].length;
      this.scanned = this.arrayStart;
    }
    for (let i = this.scanned; i < text.length && !this.finished; i++) this.scan(text, i);
    this.scanned = text.length;
    return this.steps;
  }

  private scan(text: string, i: number): void {
    const c = text[i];
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (c === "\\") this.escaped = true;
      else if (c === '"') this.inString = false;
      return;
    }
    if (c === '"') this.inString = true;
    else if (c === "{") {
      if (this.depth === 0) this.objectStart = i;
      this.depth++;
    } else if (c === "}") {
      this.depth--;
      if (this.depth === 0 && this.objectStart >= 0) {
        const step = parseStep(text.slice(this.objectStart, i + 1));
        if (step) this.steps.push(step);
        else this.finished = true;
        this.objectStart = -1;
      }
    } else if (c === "]" && this.depth === 0) this.finished = true;
  }
}

/** The steps complete in `text`, read from scratch. */
export function partialPlanSteps(text: string): PlanStep[] {
  return [...new PartialPlanReader().read(text)];
}

function parseStep(json: string): PlanStep | undefined {
  try {
    const parsed = PlanStep.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
