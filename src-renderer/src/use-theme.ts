import { useEffect } from "react";
import type { Settings } from "../../src-shared/bridge-api";

/** The theme is CSS variables keyed on <html data-theme>; "system" leaves it to prefers-color-scheme. */
export function useTheme(theme: Settings["theme"] | undefined): void {
  useEffect(() => {
    const root = document.documentElement;
    if (!theme || theme === "system") delete root.dataset.theme;
    else root.dataset.theme = theme;
  }, [theme]);
}
