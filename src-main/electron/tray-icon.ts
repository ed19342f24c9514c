/**
 * The tray icon, drawn in code so the app needs no image file: a ring with a
 * dot (an eye, for "sight"), as a BGRA bitmap for nativeImage.createFromBitmap.
 */
export function trayIconBitmap(size = 16): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  const centre = (size - 1) / 2;
  const outer = size / 2 - 0.5;
  const inner = outer - Math.max(1.5, size / 10);
  const dot = size / 6;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x - centre, y - centre);
      const on = (d <= outer && d >= inner) || d <= dot;
      if (!on) continue;
      const at = (y * size + x) * 4;
      // BGRA: a mid grey reads on both light and dark panels.
      pixels[at] = 0x90;
      pixels[at + 1] = 0x90;
      pixels[at + 2] = 0x90;
      pixels[at + 3] = 0xff;
    }
  }
  return pixels;
}
