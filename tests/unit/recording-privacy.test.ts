import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  blurRegion,
  cropImage,
  decodePng,
  drawRing,
  encodePng,
  type RgbaImage,
} from "../../src-main/recording/png-image";
import {
  containsCardNumber,
  containsEmail,
  DEFAULT_PRIVACY,
  looksLikePassword,
  looksSecret,
  redactionBoxes,
  redactionReason,
  redactText,
  typedTextShown,
  typedTextVerdict,
} from "../../src-main/recording/privacy";
import type { ScreenElement } from "../../src-shared/bridge-api";

describe("secret fields", () => {
  it("are told by their label, also as the observer writes it", () => {
    for (const label of [
      "Password",
      "password:",
      "Passwort",
      "Passcode",
      "Security code",
      "Securitycode",
      "PIN",
      "API key",
      "One-time code",
      "CVV",
    ]) {
      expect([label, looksSecret(label)]).toEqual([label, true]);
    }
    for (const label of ["Name", "E-mail", "Spinner", "Pinned tabs", "Search", undefined]) {
      expect([label, looksSecret(label)]).toEqual([label, false]);
    }
  });

  it("never keep what was typed in them; the setting masks everything; unknown fields are masked by default", () => {
    const password = { kind: "text", text: "Password" } as const;
    const name = { kind: "text", text: "Name" } as const;
    const kind = (...args: Parameters<typeof typedTextVerdict>) => typedTextVerdict(...args);
    expect(kind(password, true, DEFAULT_PRIVACY)).toEqual({ kind: "secret" });
    expect(kind(password, true, { ...DEFAULT_PRIVACY, maskAllTyping: true })).toEqual({ kind: "secret" });
    expect(kind(name, true, DEFAULT_PRIVACY)).toEqual({ kind: "keep" });
    expect(kind(name, true, { ...DEFAULT_PRIVACY, maskAllTyping: true })).toEqual({
      kind: "masked",
      reason: "settings",
    });
    expect(kind(undefined, false, DEFAULT_PRIVACY)).toEqual({ kind: "masked", reason: "unidentified-field" });
    expect(kind(undefined, false, { ...DEFAULT_PRIVACY, maskUnidentifiedFields: false })).toEqual({ kind: "keep" });
    // A click identified the field but no label was found near it: nothing says secret.
    expect(kind(undefined, true, DEFAULT_PRIVACY, "Ada Lovelace")).toEqual({ kind: "keep" });
    // …unless what was typed looks like a password by itself.
    expect(kind(name, true, DEFAULT_PRIVACY, "hunter2!Secret")).toEqual({ kind: "secret" });
  });

  it("keep typed text only where the field then shows it", () => {
    const el = (text: string, x: number, y: number): ScreenElement => ({
      id: 1,
      kind: "text",
      text,
      confidence: 1,
      box: { x, y, width: 12 * text.length, height: 24 },
    });
    const field = { x: 400, y: 247 };
    expect(typedTextShown("Ada Lovelace", [el("AdaLovelacel", 302, 235)], field)).toBe(true);
    expect(typedTextShown("Ada Lovelace", [el("Lovelace", 302, 235)], field)).toBe(true);
    expect(
      typedTextShown("a long text that scrolled out of the field", [el("scrolled out of the field", 302, 235)], field),
    ).toBe(true);
    // Dots, nothing, or the same words somewhere else on the screen: not shown in the field.
    expect(typedTextShown("violet meadow", [el("••••••••", 302, 235)], field)).toBe(false);
    expect(typedTextShown("violet meadow", [], field)).toBe(false);
    expect(typedTextShown("violet meadow", [el("violet meadow", 900, 700)], field)).toBe(false);
    expect(typedTextShown("Ada", [el("Adam Smith", 302, 235)], field)).toBe(false);
  });

  it("tell password-like text from ordinary words and names", () => {
    for (const text of ["hunter2!Secret", "Tr0ub4dor&3", "p4ss-w0rd!", "Xk9#mQ2vL"]) {
      expect([text, looksLikePassword(text)]).toEqual([text, true]);
    }
    for (const text of [
      "Ada Lovelace",
      "report-2024",
      "London",
      "correct horse battery staple",
      "Q3 Report.pdf",
      "abc!1",
    ]) {
      expect([text, looksLikePassword(text)]).toEqual([text, false]);
    }
  });
});

describe("sensitive text in screenshots", () => {
  it("finds e-mail addresses and card numbers that pass the Luhn check", () => {
    expect(containsEmail("Contact ada.lovelace+work@example.co.uk today")).toBe(true);
    expect(containsEmail("ada at example dot com")).toBe(false);
    expect(containsCardNumber("Card 4111 1111 1111 1111")).toBe(true);
    expect(containsCardNumber("5500-0000-0000-0004")).toBe(true);
    expect(containsCardNumber("4111111111111112")).toBe(false);
    expect(containsCardNumber("Order 1234567")).toBe(false);
  });

  it("finds typed text that was not kept, but not every short word inside it", () => {
    const secrets = ["Ada Lovelace"];
    expect(redactionReason("AdaLovelace", DEFAULT_PRIVACY, secrets)).toBe("typed-text");
    expect(redactionReason("Lovelace", DEFAULT_PRIVACY, secrets)).toBe("typed-text");
    expect(redactionReason("Ada", DEFAULT_PRIVACY, secrets)).toBeUndefined();
    expect(redactionReason("Name", DEFAULT_PRIVACY, secrets)).toBeUndefined();
  });

  it("gives the boxes to blur, following the settings", () => {
    const el = (id: number, text: string): ScreenElement => ({
      id,
      kind: "text",
      text,
      confidence: 1,
      box: { x: id * 100, y: 0, width: 90, height: 20 },
    });
    const elements = [el(1, "ada@example.org"), el(2, "4111 1111 1111 1111"), el(3, "Save"), el(4, "hunter2!")];
    expect(redactionBoxes(elements, DEFAULT_PRIVACY, ["hunter2!"]).map((b) => b.x)).toEqual([100, 200, 400]);
    expect(redactionBoxes(elements, { redactEmails: false, redactCardNumbers: true }).map((b) => b.x)).toEqual([200]);
  });

  it("takes them out of window titles", () => {
    expect(redactText("Inbox — ada@example.org — Mail", DEFAULT_PRIVACY)).toBe("Inbox — [e-mail] — Mail");
    expect(redactText("Pay 4111-1111-1111-1111 now", DEFAULT_PRIVACY)).toBe("Pay [card number] now");
    expect(redactText("Order 1234567", DEFAULT_PRIVACY)).toBe("Order 1234567");
  });
});

/** Black text-like strokes on white: one pixel wide lines, the structure a reader needs. */
function striped(width: number, height: number): RgbaImage {
  const data = Buffer.alloc(width * height * 4, 255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x % 4 === 0 || (y % 7 === 0 && x % 3 === 0)) data.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3);
    }
  }
  return { width, height, data };
}

const luminance = (img: RgbaImage, x: number, y: number) => img.data[(y * img.width + x) * 4] as number;

function variance(img: RgbaImage, x0: number, y0: number, w: number, h: number) {
  const values: number[] = [];
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) values.push(luminance(img, x, y));
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
}

describe("image work", () => {
  it("round-trips PNG, and reads RGB PNGs as other encoders write them", () => {
    const img = striped(40, 30);
    expect(decodePng(encodePng(img))).toEqual(img);
    const rgb = new PNG({ width: 3, height: 2, colorType: 2, inputColorType: 6 });
    for (let i = 0; i < rgb.data.length; i += 4) rgb.data.set([200, 100, 50, 255], i);
    const decoded = decodePng(PNG.sync.write(rgb, { colorType: 2 }));
    expect([decoded.width, decoded.height, ...decoded.data.subarray(20, 24)]).toEqual([3, 2, 200, 100, 50, 255]);
  });

  it("crops within the image", () => {
    const img = striped(40, 30);
    const crop = cropImage(img, { x: 30, y: 20, width: 50, height: 50 });
    expect([crop.width, crop.height]).toEqual([10, 10]);
    expect(luminance(crop, 2, 0)).toBe(luminance(img, 32, 20));
  });

  it("blurs a region beyond reading and leaves the rest of the picture alone", () => {
    const img = striped(200, 80);
    const before = Buffer.from(img.data);
    const region = { x: 40, y: 20, width: 100, height: 24 };
    expect(variance(img, 40, 20, 100, 24)).toBeGreaterThan(5000);
    blurRegion(img, region);
    expect(variance(img, 40, 20, 100, 24)).toBeLessThan(variance(striped(200, 80), 40, 20, 100, 24) / 50);
    for (let y = 0; y < 80; y++) {
      for (let x = 0; x < 200; x++) {
        const insideRegion = x >= 40 && x < 140 && y >= 20 && y < 44;
        if (!insideRegion) expect(img.data[(y * 200 + x) * 4]).toBe(before[(y * 200 + x) * 4]);
      }
    }
  });

  it("draws the click ring around the point and not on it", () => {
    const img: RgbaImage = { width: 60, height: 60, data: Buffer.alloc(60 * 60 * 4, 255) };
    drawRing(img, 30, 30, 12, 3, [230, 30, 60]);
    const at = (x: number, y: number) => [...img.data.subarray((y * 60 + x) * 4, (y * 60 + x) * 4 + 3)];
    expect(at(30, 30)).toEqual([255, 255, 255]);
    expect(at(42, 30)).toEqual([230, 30, 60]);
    expect(at(30, 17)).toEqual([230, 30, 60]);
    expect(at(55, 55)).toEqual([255, 255, 255]);
  });
});
