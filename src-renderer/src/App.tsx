import { useEffect } from "react";
import { getApi } from "./api";
import { ConfirmationDialog } from "./components/ConfirmationDialog";
import { ElementList } from "./components/ElementList";
import { ErrorPanel } from "./components/ErrorPanel";
import { HostBanner } from "./components/HostBanner";
import { InstructionBox } from "./components/InstructionBox";
import { ModelsView } from "./components/ModelsView";
import { Notice } from "./components/Notice";
import { OverlayHeader } from "./components/OverlayHeader";
import { PlanView } from "./components/PlanView";
import { RecordView } from "./components/RecordView";
import { RunOutcome } from "./components/RunOutcome";
import { RunProgress } from "./components/RunProgress";
import { SettingsView } from "./components/SettingsView";
import { VramPanel } from "./components/VramPanel";
import { focusInstruction } from "./focus";
import { overlayWindow } from "./overlay-window";
import { appStore, useApp } from "./state/hooks";
import { connectStore } from "./state/store";
import { useOverlayKeys } from "./use-overlay-keys";
import { useRecordKeys } from "./use-record-keys";
import { useTheme } from "./use-theme";
import { useVramKeys } from "./use-vram-keys";

export function App() {
  const store = appStore();
  const view = useApp((s) => s.view);
  const theme = useApp((s) => s.settings?.theme);
  useEffect(() => connectStore(store, getApi()), [store]);
  useEffect(
    () =>
      overlayWindow()?.onShowView((next) => {
        store.getState().showView(next);
        if (next === "run") requestAnimationFrame(focusInstruction);
      }),
    [store],
  );
  useOverlayKeys(store);
  useVramKeys(store);
  useRecordKeys(store);
  useTheme(theme);

  return (
    <main className="overlay" data-electron={overlayWindow() ? "" : undefined}>
      <OverlayHeader />
      <HostBanner />
      <Notice />
      {view === "settings" ? (
        <SettingsView />
      ) : view === "vram" ? (
        <VramPanel />
      ) : view === "models" ? (
        <ModelsView />
      ) : view === "record" ? (
        <RecordView />
      ) : (
        <RunView />
      )}
    </main>
  );
}

function RunView() {
  return (
    <>
      <InstructionBox />
      <RunProgress />
      <RunOutcome />
      <ErrorPanel />
      <PlanView />
      <ElementList />
      <ConfirmationDialog />
    </>
  );
}
