import { UiohookKey } from "uiohook-napi";
import { describe, expect, it } from "vitest";
import { HOOK_KEY } from "../../src-main/recording/hook-keycodes";
import type { InputEvent, Modifiers } from "../../src-main/recording/input-events";
import { characterOf, keyNameOf } from "../../src-main/recording/keyboard-layout";
import { buildSteps, StepBuilder, type StepDraft } from "../../src-main/recording/step-builder";
import { HookClock } from "../../src-main/recording/uiohook-input-source";

/** A tiny script language for input sequences: time advances 50 ms an event unless set. */
class Script {
  readonly events: InputEvent[] = [];
  private t = 1000;
  private mods: Modifiers = { shift: false, ctrl: false, alt: false, meta: false };

  wait(ms: number) {
    this.t += ms;
    return this;
  }
  private tick() {
    this.t += 50;
    return this.t;
  }
  move(x: number, y: number) {
    this.events.push({ type: "mousemove", time: this.tick(), x, y });
    return this;
  }
  down(x: number, y: number, clicks = 1, button: "left" | "right" | "middle" = "left") {
    this.events.push({ type: "mousedown", time: this.tick(), x, y, button, clicks });
    return this;
  }
  up(x: number, y: number, clicks = 1, button: "left" | "right" | "middle" = "left") {
    this.events.push({ type: "mouseup", time: this.tick(), x, y, button, clicks });
    return this;
  }
  click(x: number, y: number, button: "left" | "right" | "middle" = "left") {
    return this.move(x, y).down(x, y, 1, button).up(x, y, 1, button);
  }
  wheel(x: number, y: number, rotation: number, axis: "vertical" | "horizontal" = "vertical") {
    this.events.push({ type: "wheel", time: this.tick(), x, y, axis, rotation });
    return this;
  }
  key(keycode: number, mods: Partial<Modifiers> = {}) {
    const modifiers = { ...this.mods, ...mods };
    this.events.push({ type: "keydown", time: this.tick(), keycode, modifiers });
    this.events.push({ type: "keyup", time: this.tick(), keycode, modifiers });
    return this;
  }
  /** Types ASCII text the way a US keyboard produces it: Shift pressed around capitals and symbols. */
  type(text: string) {
    for (const c of text) {
      const entry = Object.entries(HOOK_KEY).find(
        ([, code]) => characterOf(code, false) === c || characterOf(code, true) === c,
      );
      if (!entry) throw new Error(`no key for ${c}`);
      const code = entry[1];
      const shift = characterOf(code, false) !== c;
      if (shift)
        this.events.push({
          type: "keydown",
          time: this.tick(),
          keycode: HOOK_KEY.Shift,
          modifiers: { ...this.mods, shift: true },
        });
      this.key(code, { shift });
      if (shift) this.events.push({ type: "keyup", time: this.tick(), keycode: HOOK_KEY.Shift, modifiers: this.mods });
    }
    return this;
  }
}

function line(d: StepDraft): string {
  switch (d.kind) {
    case "click":
      return `click${d.count === 2 ? "x2" : ""}${d.button === "left" ? "" : `:${d.button}`} ${d.at.x},${d.at.y}`;
    case "drag":
      return `drag ${d.from.x},${d.from.y}->${d.to.x},${d.to.y}`;
    case "scroll":
      return `scroll ${d.dx},${d.dy} @${d.at.x},${d.at.y}`;
    case "type":
      return `type "${d.text}"${d.fieldSeq === undefined ? " (no field)" : ""}${d.incomplete ? " (incomplete)" : ""}`;
    case "key":
      return `key ${d.label} [${d.keys.join(",")}]`;
  }
}

const summary = (events: InputEvent[]) => buildSteps(events).map(line);

describe("hook key codes", () => {
  it("match uiohook-napi's table, key for key", () => {
    for (const [name, code] of Object.entries(UiohookKey)) {
      const ours = /^\d$/.test(name) ? `Digit${name}` : name;
      expect([ours, HOOK_KEY[ours as keyof typeof HOOK_KEY]]).toEqual([ours, code]);
    }
    expect(Object.keys(HOOK_KEY)).toHaveLength(Object.keys(UiohookKey).length);
  });

  it("map to characters on the US layout and to the executor's key names", () => {
    expect(characterOf(HOOK_KEY.A, false)).toBe("a");
    expect(characterOf(HOOK_KEY.A, true)).toBe("A");
    expect(characterOf(HOOK_KEY.A, false, true)).toBe("A");
    expect(characterOf(HOOK_KEY.A, true, true)).toBe("a");
    expect(characterOf(HOOK_KEY.Digit1, true)).toBe("!");
    expect(characterOf(HOOK_KEY.Digit1, true, true)).toBe("!");
    expect(characterOf(HOOK_KEY.Quote, true)).toBe('"');
    expect(characterOf(HOOK_KEY.Enter, false)).toBeUndefined();
    expect(keyNameOf(HOOK_KEY.Enter)).toEqual({ name: "Enter", label: "Enter" });
    expect(keyNameOf(HOOK_KEY.ArrowDown)?.name).toBe("Down");
    expect(keyNameOf(HOOK_KEY.Digit7)?.name).toBe("Num7");
    expect(keyNameOf(HOOK_KEY.F11)?.name).toBe("F11");
  });
});

describe("the step builder", () => {
  it("turns clicks, typing, keys, scrolls and drags into steps in the user's order", () => {
    const s = new Script()
      .click(300, 200)
      .type("Ada Lovelace")
      .key(HOOK_KEY.Tab)
      .type("x")
      .click(150, 400)
      .wheel(800, 500, 1)
      .wheel(802, 505, 1)
      .wheel(801, 503, 1)
      .move(310, 480)
      .down(310, 480)
      .move(450, 482)
      .up(600, 481)
      .key(HOOK_KEY.S, { ctrl: true })
      .click(260, 570);
    expect(summary(s.events)).toEqual([
      "click 300,200",
      'type "Ada Lovelace"',
      "key Tab [Tab]",
      'type "x" (no field)',
      "click 150,400",
      "scroll 0,3 @800,500",
      "drag 310,480->600,481",
      "key Ctrl+S [LeftControl,S]",
      "click 260,570",
    ]);
  });

  it("ties typing to the click that focused the field, and Tab ends that", () => {
    const s = new Script().click(300, 200).type("ab").key(HOOK_KEY.Tab).type("cd");
    const drafts = buildSteps(s.events);
    const click = drafts[0];
    const typed = drafts[1];
    expect(click?.kind).toBe("click");
    expect(typed).toMatchObject({ kind: "type", text: "ab" });
    expect(typed?.kind === "type" && click?.kind === "click" && typed.fieldSeq === click.pressSeq).toBe(true);
    expect(drafts[3]).toMatchObject({ kind: "type", text: "cd" });
    expect(drafts[3]?.kind === "type" && drafts[3].fieldSeq).toBeUndefined();
  });

  it("applies Backspace inside typing, and records it as a key when there is nothing to delete", () => {
    const s = new Script()
      .click(10, 10)
      .type("hexy")
      .key(HOOK_KEY.Backspace)
      .key(HOOK_KEY.Backspace)
      .type("llo")
      .key(HOOK_KEY.Enter)
      .key(HOOK_KEY.Backspace);
    expect(summary(s.events)).toEqual([
      "click 10,10",
      'type "hello"',
      "key Enter [Enter]",
      "key Backspace [Backspace]",
    ]);
  });

  it("follows Caps Lock and Shift", () => {
    const s = new Script().click(10, 10).key(HOOK_KEY.CapsLock).type("ab").key(HOOK_KEY.CapsLock).type("Cd!");
    expect(summary(s.events)).toEqual(["click 10,10", 'type "ABCd!"']);
  });

  it("says a type step is incomplete when a key has no character on the table", () => {
    const s = new Script().click(10, 10).type("ab");
    s.events.push({
      type: "keydown",
      time: 99_999,
      keycode: 0xe0_99,
      modifiers: { shift: false, ctrl: false, alt: false, meta: false },
    });
    s.wait(10).type("c");
    expect(summary(s.events)).toEqual(["click 10,10", 'type "abc" (incomplete)']);
  });

  it("folds the hook's second press of a double click into one step", () => {
    const s = new Script().move(50, 60).down(50, 60, 1).up(50, 60, 1).down(51, 60, 2).up(51, 60, 2).click(400, 60);
    expect(summary(s.events)).toEqual(["clickx2 50,60", "click 400,60"]);
  });

  it("keeps two separate clicks at one place apart, and records right clicks", () => {
    const s = new Script().click(50, 60).wait(800).click(50, 60).click(70, 80, "right");
    expect(summary(s.events)).toEqual(["click 50,60", "click 50,60", "click:right 70,80"]);
  });

  it("splits scrolls that are apart in time or place, and counts direction", () => {
    const s = new Script()
      .wheel(100, 100, 1)
      .wheel(100, 100, 1)
      .wait(2000)
      .wheel(100, 100, -1)
      .wheel(400, 100, 2, "horizontal");
    expect(summary(s.events)).toEqual(["scroll 0,2 @100,100", "scroll 0,-1 @100,100", "scroll 2,0 @400,100"]);
  });

  it("drops scrolls that cancel out and presses that never end", () => {
    const s = new Script().wheel(100, 100, 1).wheel(100, 100, -1).move(5, 5).down(5, 5);
    expect(summary(s.events)).toEqual([]);
  });

  it("keeps Shift with keys that type nothing, and leaves modifier keys alone", () => {
    const s = new Script()
      .key(HOOK_KEY.Shift, { shift: true })
      .key(HOOK_KEY.Tab, { shift: true })
      .key(HOOK_KEY.ArrowDown)
      .key(HOOK_KEY.F4, { alt: true })
      .key(HOOK_KEY.Ctrl, { ctrl: true });
    expect(summary(s.events)).toEqual(["key Shift+Tab [LeftShift,Tab]", "key ↓ [Down]", "key Alt+F4 [LeftAlt,F4]"]);
  });

  it("reports the events an open step may still claim, so the recorder can let go of the rest", () => {
    const builder = new StepBuilder();
    const mods = { shift: false, ctrl: false, alt: false, meta: false };
    builder.push({ type: "mousedown", time: 1, x: 1, y: 1, button: "left", clicks: 1, seq: 0 });
    expect(builder.oldestOpenSeq()).toBe(0);
    expect(builder.push({ type: "mouseup", time: 2, x: 1, y: 1, button: "left", clicks: 1, seq: 1 })).toEqual([]);
    expect(builder.oldestOpenSeq()).toBe(0);
    const out = builder.push({ type: "keydown", time: 3, keycode: HOOK_KEY.A, modifiers: mods, seq: 2 });
    expect(out.map((d) => d.kind)).toEqual(["click"]);
    expect(builder.isTyping).toBe(true);
    expect(builder.oldestOpenSeq()).toBe(2);
    expect(builder.finish().map((d) => d.kind)).toEqual(["type"]);
    expect(builder.oldestOpenSeq()).toBeUndefined();
  });
});

describe("the hook clock", () => {
  it("maps the hook's times to this process's clock by the smallest delivery gap seen", () => {
    let now = 10_000;
    const clock = new HookClock(() => now);
    // The hook's clock runs 7000 ms behind; the first event arrives 30 ms late, the second 2 ms late.
    expect(clock.toLocal(now - 7000 - 30)).toBe(now);
    now += 100;
    expect(clock.toLocal(now - 7000 - 2)).toBe(now);
    // A later event that waited 250 ms in a busy loop gets its real time back.
    now += 1000;
    expect(clock.toLocal(now - 7000 - 250)).toBe(now - 250 + 2);
  });

  it("starts over when the hook's clock restarts, and never dates an event after its arrival", () => {
    let now = 50_000;
    const clock = new HookClock(() => now);
    clock.toLocal(now - 7000);
    now += 10;
    expect(clock.toLocal(5)).toBe(now);
    now += 10;
    expect(clock.toLocal(15)).toBe(now);
  });
});
