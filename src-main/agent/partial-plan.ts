import { PlanStep } from "../../src-shared/plan";

/**
 * The steps a plan that is still streaming has finished so far: every complete
 * object of its "steps" array that already parses as a PlanStep. They are for
 * showing only; a run executes nothing before the whole answer has parsed.
 */
export function partialPlanSteps(text: string): PlanStep[] {
  const key = /"steps"\s*:\s*\[/.exec(text);
  if (!key) return [];
  const steps: PlanStep[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = key.index + key[0].length; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0 && start >= 0) {
        const step = parseStep(text.slice(start, i + 1));
        if (!step) return steps; // an object that does not parse ends the preview rather than skipping a step
        steps.push(step);
        start = -1;
      }
    } else if (c === "]" && depth === 0) break;
  }
  return steps;
}

function parseStep(json: string): PlanStep | undefined {
  try {
    const parsed = PlanStep.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
