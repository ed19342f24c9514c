import type {
  RecordingExports,
  RecordingStatus,
  RecordingStepView,
  RecordingSummaryView,
  ScreenBox,
} from "../../../src-shared/bridge-api";
import { asFailure, type CallFailure, type SliceCreator } from "./slice";

/** A recording opened in the library: its steps, and the screenshots loaded so far (file → data URL). */
export type OpenedRecording = { recording: RecordingSummaryView; steps: RecordingStepView[] };

export type RecordingSlice = {
  recorder: RecordingStatus;
  /** The steps of the recording in progress (or the one just stopped), as they arrive. */
  liveSteps: RecordingStepView[];
  /** The recordings library, newest first; undefined until loaded. */
  recordings: RecordingSummaryView[] | undefined;
  opened: OpenedRecording | undefined;
  stepImages: Record<string, string>;
  /** The exports of the last stop or "export again", and the folder shown for "open folder". */
  lastExports: (RecordingExports & { id: string }) | undefined;
  shownFolder: { id: string; folder: string; opened: boolean } | undefined;
  /** Problems the recorder reported while recording (an observe that failed). */
  recordingProblems: string[];
  recordingError: CallFailure | undefined;
  /** A call in flight: buttons that would start another wait for it. */
  recordingBusy: boolean;
  startRecording: (options?: { title?: string; ownWindow?: ScreenBox }) => Promise<void>;
  stopRecording: () => Promise<void>;
  loadRecordings: () => Promise<void>;
  renameRecording: (id: string, title: string) => Promise<boolean>;
  deleteRecording: (id: string) => Promise<void>;
  exportRecording: (id: string) => Promise<void>;
  openRecordingFolder: (id: string) => Promise<void>;
  openRecording: (id: string) => Promise<void>;
  closeRecording: () => void;
  loadStepImage: (id: string, file: string) => Promise<void>;
  replayRecording: (id: string) => Promise<void>;
  receiveRecordingState: (state: RecordingStatus) => void;
  receiveRecordingStep: (event: { id: string; step: RecordingStepView }) => void;
  receiveRecordingProblem: (problem: { id: string; message: string }) => void;
  dismissRecordingError: () => void;
};

const imageKey = (id: string, file: string) => `${id}/${file}`;

export const createRecordingSlice: SliceCreator<RecordingSlice> = (set, get, { api }) => {
  /** Runs one call with the busy flag and the error panel; undefined when it failed. */
  const guarded = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    set({ recordingBusy: true, recordingError: undefined });
    try {
      return await work();
    } catch (error) {
      set({ recordingError: asFailure(error) });
      return undefined;
    } finally {
      set({ recordingBusy: false });
    }
  };
  const refresh = async () => {
    const recordings = await api.call("listRecordings", {});
    set({ recordings });
  };
  return {
    recorder: { phase: "idle" },
    liveSteps: [],
    recordings: undefined,
    opened: undefined,
    stepImages: {},
    lastExports: undefined,
    shownFolder: undefined,
    recordingProblems: [],
    recordingError: undefined,
    recordingBusy: false,
    startRecording: async (options = {}) => {
      await guarded(async () => {
        set({ liveSteps: [], recordingProblems: [], lastExports: undefined });
        const recorder = await api.call("recordingStart", options);
        get().receiveRecordingState(recorder);
      });
    },
    stopRecording: async () => {
      await guarded(async () => {
        const { recording, steps, exports } = await api.call("recordingStop", {});
        set({ liveSteps: steps, lastExports: { id: recording.id, ...exports }, recorder: { phase: "idle" } });
        await refresh();
      });
    },
    loadRecordings: async () => {
      await guarded(refresh);
    },
    renameRecording: async (id, title) => {
      const renamed = await guarded(() => api.call("renameRecording", { id, title }));
      if (!renamed) return false;
      set((s) => ({
        recordings: s.recordings?.map((r) => (r.id === id ? renamed : r)),
        ...(s.opened?.recording.id === id ? { opened: { ...s.opened, recording: renamed } } : {}),
      }));
      return true;
    },
    deleteRecording: async (id) => {
      await guarded(async () => {
        await api.call("deleteRecording", { id });
        set((s) => ({
          recordings: s.recordings?.filter((r) => r.id !== id),
          ...(s.opened?.recording.id === id ? { opened: undefined } : {}),
          ...(s.lastExports?.id === id ? { lastExports: undefined } : {}),
          ...(s.shownFolder?.id === id ? { shownFolder: undefined } : {}),
        }));
      });
    },
    exportRecording: async (id) => {
      const exports = await guarded(() => api.call("exportRecording", { id }));
      if (exports) set({ lastExports: { id, ...exports } });
    },
    openRecordingFolder: async (id) => {
      const shown = await guarded(() => api.call("openRecordingFolder", { id }));
      if (shown) set({ shownFolder: { id, ...shown } });
    },
    openRecording: async (id) => {
      const opened = await guarded(() => api.call("getRecording", { id }));
      if (opened) set({ opened });
    },
    closeRecording: () => set({ opened: undefined }),
    loadStepImage: async (id, file) => {
      const key = imageKey(id, file);
      if (get().stepImages[key]) return;
      try {
        const { dataUrl } = await api.call("getRecordingImage", { id, file });
        set((s) => ({ stepImages: { ...s.stepImages, [key]: dataUrl } }));
      } catch {
        // A missing screenshot leaves the step without its picture; the text still shows.
      }
    },
    replayRecording: async (id) => {
      const started = await guarded(() => api.call("replayRecording", { id }));
      // The replay is a run like any other: the run view shows its plan, confirmations and stop button.
      if (started) get().showView("run");
    },
    receiveRecordingState: (recorder) => {
      const before = get().recorder;
      const fresh = recorder.phase !== "idle" && (before.phase === "idle" || before.id !== recorder.id);
      set({ recorder, ...(fresh ? { liveSteps: [], recordingProblems: [] } : {}) });
      // A recording stopped elsewhere (the hotkey, the tray) lands in the library.
      if (recorder.phase === "idle" && before.phase !== "idle") void refresh().catch(() => {});
    },
    receiveRecordingStep: ({ id, step }) => {
      const recorder = get().recorder;
      if (recorder.phase === "idle" || recorder.id !== id) return;
      set((s) => ({
        liveSteps: [...s.liveSteps.filter((x) => x.index !== step.index), step].sort((a, b) => a.index - b.index),
      }));
    },
    receiveRecordingProblem: ({ message }) => set((s) => ({ recordingProblems: [...s.recordingProblems, message] })),
    dismissRecordingError: () => set({ recordingError: undefined }),
  };
};

export { imageKey as recordingImageKey };
