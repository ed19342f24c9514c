/**
 * The overlay must never be in a screenshot the planner reads: before a
 * capture it hides, the capture waits until the window is really off the
 * screen, and after the capture (or its failure) it comes back. Window
 * plumbing supplies the three callbacks; this holds the order, the waiting
 * and the error paths, so they are tested without a window system.
 */
export type CurtainWindow = {
  isVisible(): boolean;
  /** Starts hiding; resolves once the window system reports the window hidden. */
  hide(): Promise<void>;
  show(): void;
};

export type CurtainOptions = {
  /** After the window reports hidden, the compositor may still show its last frame for a frame or two. */
  settleMs?: number;
  /** How long to wait for the hide to take effect before giving up on the capture. */
  hideTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
};

export class OverlayDidNotHide extends Error {
  override name = "OverlayDidNotHide";
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class OverlayCurtain {
  /** Captures in progress: overlapping captures (a run and a recording) hide once and show after the last. */
  private depth = 0;
  private hid = false;
  private readonly settleMs: number;
  private readonly hideTimeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly window: CurtainWindow,
    options: CurtainOptions = {},
  ) {
    this.settleMs = options.settleMs ?? 120;
    this.hideTimeoutMs = options.hideTimeoutMs ?? 2000;
    this.sleep = options.sleep ?? wait;
  }

  /**
   * Hides the overlay if it shows and resolves once it is gone. Throws OverlayDidNotHide (with the overlay
   * shown again) where it does not go: a capture with the overlay in it must not happen.
   */
  async beforeCapture(): Promise<void> {
    this.depth++;
    if (this.depth > 1 || !this.window.isVisible()) return;
    this.hid = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.window.hide(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new OverlayDidNotHide(`the overlay did not hide within ${this.hideTimeoutMs} ms`)),
            this.hideTimeoutMs,
          );
        }),
      ]);
      await this.sleep(this.settleMs);
    } catch (error) {
      await this.afterCapture();
      throw error instanceof OverlayDidNotHide ? error : new OverlayDidNotHide(`hiding the overlay failed: ${error}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Shows the overlay again once the last capture in progress is over, if this curtain hid it. */
  async afterCapture(): Promise<void> {
    if (this.depth === 0) return;
    this.depth--;
    if (this.depth > 0 || !this.hid) return;
    this.hid = false;
    this.window.show();
  }

  /** Runs one capture behind the curtain: hidden before, shown after, also when the capture throws. */
  async around<T>(capture: () => Promise<T>): Promise<T> {
    await this.beforeCapture();
    try {
      return await capture();
    } finally {
      await this.afterCapture();
    }
  }
}
