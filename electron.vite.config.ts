import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "electron-vite";

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          electron: resolve("src-main/electron/main.ts"),
          headless: resolve("src-main/headless/main.ts"),
        },
      },
    },
  },
  preload: {
    // A sandboxed preload must be one CommonJS file that requires nothing but 'electron', so zod is bundled in.
    build: {
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve("src-preload/index.ts") },
        output: { format: "cjs", entryFileNames: "[name].cjs" },
      },
    },
  },
  renderer: {
    root: "src-renderer",
    plugins: [react()],
    build: { rollupOptions: { input: resolve("src-renderer/index.html") } },
  },
});
