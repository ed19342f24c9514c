import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { z } from "zod";
import { App } from "./App";
import "./styles.css";

// zod would probe for eval to compile faster validators; the page's CSP forbids eval, so skip the probe.
z.config({ jitless: true });

const root = document.getElementById("root");
if (!root) throw new Error("index.html lacks #root");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
