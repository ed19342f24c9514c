import { describe, expect, it } from "vitest";
import { hotkeyFromAccelerator } from "../../src-main/actions/kill-switch";

describe("the kill switch's hotkey from the settings' accelerator", () => {
  it("reads modifiers and keys as Electron names them", () => {
    expect(hotkeyFromAccelerator("CommandOrControl+Alt+Escape", "linux")).toEqual({
      key: "Escape",
      ctrl: true,
      alt: true,
    });
    expect(hotkeyFromAccelerator("CmdOrCtrl+Shift+K", "darwin")).toEqual({ key: "K", meta: true, shift: true });
    expect(hotkeyFromAccelerator("Ctrl+F12")).toEqual({ key: "F12", ctrl: true });
    expect(hotkeyFromAccelerator("Alt+Space")).toEqual({ key: "Space", alt: true });
  });

  it("refuses what the input hook cannot listen for", () => {
    expect(() => hotkeyFromAccelerator("Ctrl+Plus")).toThrow(/cannot listen/);
    expect(() => hotkeyFromAccelerator("Ctrl+Alt")).toThrow();
    expect(() => hotkeyFromAccelerator("Hyper+Escape")).toThrow(/not a modifier/);
  });
});
