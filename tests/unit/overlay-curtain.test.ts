import { describe, expect, it } from "vitest";
import { type CurtainWindow, OverlayCurtain, OverlayDidNotHide } from "../../src-main/capture/overlay-curtain";

/** A window whose hide takes effect only when the test says (as a window manager's unmap would). */
function fakeWindow(visible = true) {
  const log: string[] = [];
  let finishHide: () => void = () => {};
  let failHide: (error: Error) => void = () => {};
  const window: CurtainWindow & { visible: boolean } = {
    visible,
    isVisible: () => window.visible,
    hide: () => {
      log.push("hide");
      return new Promise<void>((resolve, reject) => {
        finishHide = () => {
          window.visible = false;
          log.push("hidden");
          resolve();
        };
        failHide = reject;
      });
    },
    show: () => {
      window.visible = true;
      log.push("show");
    },
  };
  return { window, log, finishHide: () => finishHide(), failHide: (e: Error) => failHide(e) };
}

const noSettle = { settleMs: 0, sleep: async () => {} };

describe("OverlayCurtain", () => {
  it("captures only after the hide has taken effect and the settle time has passed, then shows again", async () => {
    const fake = fakeWindow();
    const settled: number[] = [];
    const curtain = new OverlayCurtain(fake.window, {
      settleMs: 120,
      sleep: async (ms) => {
        settled.push(ms);
        fake.log.push("settled");
      },
    });
    const result = curtain.around(async () => {
      fake.log.push(`capture (visible: ${fake.window.isVisible()})`);
      return "frame";
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fake.log).toEqual(["hide"]);
    fake.finishHide();
    expect(await result).toBe("frame");
    expect(fake.log).toEqual(["hide", "hidden", "settled", "capture (visible: false)", "show"]);
    expect(settled).toEqual([120]);
  });

  it("shows the overlay again when the capture throws", async () => {
    const fake = fakeWindow();
    const curtain = new OverlayCurtain(fake.window, noSettle);
    const capture = curtain.around(async () => {
      throw new Error("no display");
    });
    fake.finishHide();
    await expect(capture).rejects.toThrow("no display");
    expect(fake.log).toEqual(["hide", "hidden", "show"]);
    expect(fake.window.visible).toBe(true);
  });

  it("does not capture, and shows the overlay again, when the hide fails or never takes effect", async () => {
    const failing = fakeWindow();
    let captured = false;
    const curtain = new OverlayCurtain(failing.window, noSettle);
    const attempt = curtain.around(async () => {
      captured = true;
    });
    failing.failHide(new Error("window destroyed"));
    await expect(attempt).rejects.toBeInstanceOf(OverlayDidNotHide);
    expect(failing.log).toEqual(["hide", "show"]);

    const stuck = fakeWindow();
    const slow = new OverlayCurtain(stuck.window, { ...noSettle, hideTimeoutMs: 20 });
    await expect(
      slow.around(async () => {
        captured = true;
      }),
    ).rejects.toThrow(/did not hide within 20 ms/);
    expect(stuck.log).toEqual(["hide", "show"]);
    expect(captured).toBe(false);
    // The curtain is usable again afterwards.
    const next = slow.around(async () => "ok");
    stuck.finishHide();
    await expect(next).resolves.toBe("ok");
  });

  it("leaves a hidden overlay hidden", async () => {
    const fake = fakeWindow(false);
    const curtain = new OverlayCurtain(fake.window, noSettle);
    await curtain.around(async () => {});
    expect(fake.log).toEqual([]);
  });

  it("hides once for overlapping captures and shows after the last (RunManager's before/after hooks)", async () => {
    const fake = fakeWindow();
    const curtain = new OverlayCurtain(fake.window, noSettle);
    const first = curtain.beforeCapture();
    fake.finishHide();
    await first;
    await curtain.beforeCapture();
    await curtain.afterCapture();
    expect(fake.window.visible).toBe(false);
    await curtain.afterCapture();
    expect(fake.log).toEqual(["hide", "hidden", "show"]);
    // An unmatched after does nothing.
    await curtain.afterCapture();
    expect(fake.log).toEqual(["hide", "hidden", "show"]);
  });
});
