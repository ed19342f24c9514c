import { useEffect } from "react";
import { ElementList } from "./components/ElementList";
import { ErrorBanner } from "./components/ErrorBanner";
import { InstructionBox } from "./components/InstructionBox";
import { StatusLine } from "./components/StatusLine";
import { connectStore } from "./store";

export function App() {
  useEffect(() => connectStore(), []);
  return (
    <main className="overlay">
      <InstructionBox />
      <StatusLine />
      <ErrorBanner />
      <ElementList />
    </main>
  );
}
