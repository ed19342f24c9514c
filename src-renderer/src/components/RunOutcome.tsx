import type { RunState } from "../../../src-shared/bridge-api";
import { useApp } from "../state/hooks";

function count(run: RunState, status: RunState["steps"][number]["status"]): number {
  return run.steps.filter((s) => s.status === status).length;
}

function stepsWord(n: number): string {
  return `${n} step${n === 1 ? "" : "s"}`;
}

/** How a finished run ended, in one line: what was done, what was skipped, and that nothing more will happen. */
export function RunOutcome() {
  const run = useApp((s) => s.run);
  if (!run || (run.stage !== "done" && run.stage !== "cancelled")) return null;
  const done = count(run, "done");
  const skipped = count(run, "skipped");
  const tally = `${stepsWord(done)} performed${skipped ? `, ${stepsWord(skipped)} skipped` : ""}`;
  return (
    <output className={`outcome outcome-${run.stage}`} data-testid={run.stage === "done" ? "finished" : "stopped"}>
      {run.stage === "done"
        ? `Finished: ${tally}.`
        : `Stopped${done + skipped > 0 ? ` (${tally})` : " before any step was performed"}; nothing more will be done for this instruction.`}
    </output>
  );
}
