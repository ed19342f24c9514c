import type { DesktopIO } from "../../src-main/actions/desktop-io";

/** A DesktopIO that performs nothing and records what would have reached the OS, one call per line. */
export function loggingDesktopIO(): DesktopIO & { calls: string[] } {
  const calls: string[] = [];
  const log =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(",")})`);
    };
  return {
    calls,
    moveTo: log("moveTo"),
    press: log("press"),
    release: log("release"),
    click: log("click"),
    scroll: log("scroll"),
    beginTyping: async () => async () => {},
    typeText: log("typeText"),
    pressKeys: log("pressKeys"),
    releaseAll: log("releaseAll"),
  };
}
