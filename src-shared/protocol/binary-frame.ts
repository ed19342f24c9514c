/**
 * The one binary frame of the protocol: an `observe` (or a `point`: same layout) whose raw pixels ride in
 * the same WebSocket frame as its JSON, so the pixels are neither base64-coded
 * nor parsed as text, and no state pairs a text frame with a later binary one.
 *
 *   [u32 big-endian: byte length N of the JSON] [N bytes: the observe message, UTF-8] [width × height × 4 bytes]
 *
 * The JSON's image is a RawImage without `data`. The host checks the pixel
 * count against the declared size before it allocates anything.
 */
import type { ObserveRequest, RawImage } from "./host-messages";

export const FRAME_HEADER_BYTES = 4;

export type RawObserve = Omit<ObserveRequest, "image"> & { image: Omit<RawImage, "data"> };

/** The frame's parts, for `ws.send([...], { binary: true })` or a single Buffer.concat: the pixels are not copied here. */
export function observeFrameParts(message: RawObserve, pixels: Uint8Array): [Buffer, Buffer, Uint8Array] {
  const { width, height } = message.image;
  if (pixels.byteLength !== width * height * 4) {
    throw new Error(`raw image of ${width}×${height} needs ${width * height * 4} bytes, got ${pixels.byteLength}`);
  }
  const json = Buffer.from(JSON.stringify(message), "utf8");
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(json.byteLength, 0);
  return [header, json, pixels];
}
