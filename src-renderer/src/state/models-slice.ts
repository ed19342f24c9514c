import type { ModelInfo, ModelPullState } from "../../../src-shared/bridge-api";
import { asFailure, type CallFailure, type SliceCreator } from "./slice";

export type ModelsList =
  | { status: "idle" }
  | { status: "loading"; previous?: ModelInfo[] }
  | { status: "ready"; models: ModelInfo[] }
  | { status: "error"; error: CallFailure; previous?: ModelInfo[] };

export type ModelsSlice = {
  modelList: ModelsList;
  /** Each model's pull as last heard: running with its progress, or how it ended (until the next pull). */
  pulls: Record<string, ModelPullState>;
  loadModels: () => Promise<void>;
  pullModel: (modelId: string) => Promise<void>;
  cancelPull: (modelId: string) => Promise<void>;
  receiveModelPull: (state: ModelPullState) => void;
};

/** The models shown while a list is (re)loading or failed: the last good one. */
export function shownModels(list: ModelsList): ModelInfo[] | undefined {
  return list.status === "ready" ? list.models : list.status === "idle" ? undefined : list.previous;
}

export const createModelsSlice: SliceCreator<ModelsSlice> = (set, get, { api }) => {
  let listRequest = 0;
  const setPull = (state: ModelPullState) => set({ pulls: { ...get().pulls, [state.modelId]: state } });
  return {
    modelList: { status: "idle" },
    pulls: {},
    loadModels: async () => {
      const request = ++listRequest;
      const previous = shownModels(get().modelList);
      set({ modelList: previous ? { status: "loading", previous } : { status: "loading" } });
      try {
        const { models, pulls } = await api.call("listModels", {});
        if (request !== listRequest) return;
        // Pulls that started elsewhere (another window, before a reload) show their progress here too.
        const running = Object.fromEntries(pulls.map((p) => [p.modelId, p]));
        set({ modelList: { status: "ready", models }, pulls: { ...get().pulls, ...running } });
      } catch (error) {
        if (request === listRequest)
          set({
            modelList: previous
              ? { status: "error", error: asFailure(error), previous }
              : { status: "error", error: asFailure(error) },
          });
      }
    },
    pullModel: async (modelId) => {
      try {
        await api.call("pullModel", { modelId });
      } catch (error) {
        setPull({ status: "failed", modelId, error: asFailure(error) });
      }
    },
    cancelPull: async (modelId) => {
      try {
        await api.call("cancelPull", { modelId });
      } catch (error) {
        setPull({ status: "failed", modelId, error: asFailure(error) });
      }
    },
    receiveModelPull: (state) => {
      setPull(state);
      // A pull that ended changed the store (a model present, a partial kept): show it as it is now.
      if (state.status !== "pulling") void get().loadModels();
    },
  };
};
