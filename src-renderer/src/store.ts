import { create } from "zustand";
import type { ApiError, HostStatus, ObserveOutcome, Stage } from "../../src-shared/bridge-api";
import { getApi } from "./api";

type AssistantState = {
  instruction: string;
  stage: Stage;
  stageDetail: string | undefined;
  outcome: ObserveOutcome | undefined;
  error: ApiError | undefined;
  host: HostStatus;
  setInstruction: (text: string) => void;
  submit: () => Promise<void>;
  setHost: (status: HostStatus) => void;
  setStage: (stage: Stage, detail?: string) => void;
};

export const useAssistant = create<AssistantState>((set, get) => ({
  instruction: "",
  stage: "idle",
  stageDetail: undefined,
  outcome: undefined,
  error: undefined,
  host: { phase: "stopped" },
  setInstruction: (instruction) => set({ instruction }),
  setHost: (host) => set({ host }),
  setStage: (stage, stageDetail) => set({ stage, stageDetail }),
  submit: async () => {
    const instruction = get().instruction.trim();
    if (!instruction || get().stage === "capturing" || get().stage === "observing") return;
    set({ error: undefined, outcome: undefined, stage: "capturing" });
    try {
      const outcome = await getApi().call("submitInstruction", { instruction });
      set({ outcome, stage: "done" });
    } catch (error) {
      const err = error as { code?: string; message?: string };
      set({ error: { code: err.code ?? "internal", message: err.message ?? String(error) }, stage: "failed" });
    }
  },
}));

/** Subscribes the store to the main process's pushed events; returns the unsubscribe. */
export function connectStore(): () => void {
  const api = getApi();
  const offs = [
    api.on("hostStatus", (status) => useAssistant.getState().setHost(status)),
    api.on("stage", ({ stage, detail }) => useAssistant.getState().setStage(stage, detail)),
  ];
  api
    .call("getHostStatus", {})
    .then((status) => useAssistant.getState().setHost(status))
    .catch(() => {});
  return () => {
    for (const off of offs) off();
  };
}
