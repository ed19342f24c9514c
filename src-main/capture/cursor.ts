/**
 * Where the mouse pointer is, in physical pixels of the virtual desktop, so a
 * capture takes the display the user is looking at. Undefined where the
 * pointer cannot be read (no display yet, or the native addon fails to load):
 * the capture then takes the primary display.
 */
export async function cursorPoint(): Promise<{ x: number; y: number } | undefined> {
  try {
    // nut-js loads a native addon that needs a display; load it only when a capture asks.
    const { mouse } = await import("@nut-tree-fork/nut-js");
    const { x, y } = await mouse.getPosition();
    return Number.isFinite(x) && Number.isFinite(y) ? { x, y } : undefined;
  } catch {
    return undefined;
  }
}
