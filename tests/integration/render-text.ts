import { execFileSync } from "node:child_process";
import { hostPython } from "../../src-main/host/python-env";

/** Renders words at known places into a PNG with Pillow from the host's own environment. */
export function renderTextPng(items: Array<{ text: string; x: number; y: number }>, width = 900, height = 240): Buffer {
  const script = `
import io, json, sys
from PIL import Image, ImageDraw, ImageFont
items = json.loads(sys.argv[1])
img = Image.new("RGB", (${width}, ${height}), "white")
draw = ImageDraw.Draw(img)
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 44)
for it in items:
    draw.text((it["x"], it["y"]), it["text"], fill="black", font=font)
buf = io.BytesIO()
img.save(buf, "PNG")
sys.stdout.buffer.write(buf.getvalue())
`;
  return execFileSync(hostPython(), ["-c", script, JSON.stringify(items)], { maxBuffer: 64 * 1024 * 1024 });
}
