/**
 * A recording as it is stored: `manifest.json` in the recording's folder, with
 * its screenshots under `images/`. Everything read back from disk is parsed
 * with these schemas; a manifest that does not parse is not used.
 */
import { z } from "zod";
import { KeyName, MouseButton } from "../../src-shared/actions";
import { DisplayInfo } from "../../src-shared/bridge-api";
import { ElementDescription } from "./element-description";
import { DEFAULT_PRIVACY } from "./privacy";

export const RECORDING_FORMAT = "sightline-recording";
export const RECORDING_VERSION = 1;

/** Folder names of recordings: made by the library, and checked wherever one comes from outside. */
export const RecordingId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,80}$/, "a recording id");
export type RecordingId = z.infer<typeof RecordingId>;

export const RecordingSettings = z
  .object({
    maskAllTyping: z.boolean().default(DEFAULT_PRIVACY.maskAllTyping),
    maskUnidentifiedFields: z.boolean().default(DEFAULT_PRIVACY.maskUnidentifiedFields),
    redactEmails: z.boolean().default(DEFAULT_PRIVACY.redactEmails),
    redactCardNumbers: z.boolean().default(DEFAULT_PRIVACY.redactCardNumbers),
  })
  .strict();
export type RecordingSettings = z.infer<typeof RecordingSettings>;

const DesktopPoint = z.object({ x: z.number().finite(), y: z.number().finite() }).strict();

export const StepImage = z
  .object({
    /** Relative to the recording's folder. */
    file: z.string().regex(/^images\/step-\d{3,}\.png$/),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    /** Where the image's top-left pixel was on the desktop (physical pixels). */
    origin: DesktopPoint,
    /** Where the step acted, in the image's pixels (drawn as a ring). */
    marker: DesktopPoint.optional(),
    /** Where a drag ended, in the image's pixels (drawn as a ring too). */
    dropMarker: DesktopPoint.optional(),
    /**
     * "before": the frame was taken before the press reached the app (the normal case).
     * "after": no earlier frame was at hand, so it was taken just after.
     */
    timing: z.enum(["before", "after"]),
    /** How old the frame was when the input came. */
    ageMs: z.number().nonnegative(),
    /** Regions blurred by the redaction pass. */
    redacted: z.number().int().nonnegative(),
  })
  .strict();
export type StepImage = z.infer<typeof StepImage>;

const stepBase = {
  /** 1, 2, … in the order the user acted. */
  index: z.number().int().positive(),
  /** One short imperative sentence, Markdown inline (bold and escapes only): "Click **Save**". */
  sentence: z.string().min(1).max(500),
  /** Milliseconds since the recording started. */
  time: z.number().nonnegative(),
  windowTitle: z.string().max(500).optional(),
  image: StepImage.optional(),
};

export const TypedText = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("text"), text: z.string().min(1).max(10_000), incomplete: z.boolean() }).strict(),
  /** Typed into a password-like field: nothing of it is kept, not even its length. */
  z
    .object({ kind: z.literal("secret") })
    .strict(),
  /**
   * Not kept: "settings" (all typing is masked), "unidentified-field" (no click
   * said which field had the focus), "not-shown" (the text did not appear in
   * the field afterwards, as in a password field, or there was no frame to check).
   */
  z
    .object({ kind: z.literal("masked"), reason: z.enum(["settings", "unidentified-field", "not-shown"]).optional() })
    .strict(),
]);
export type TypedText = z.infer<typeof TypedText>;

export const RecordedStep = z.discriminatedUnion("kind", [
  z
    .object({
      ...stepBase,
      kind: z.literal("click"),
      at: DesktopPoint,
      button: MouseButton,
      count: z.union([z.literal(1), z.literal(2)]),
      target: ElementDescription.optional(),
    })
    .strict(),
  z
    .object({
      ...stepBase,
      kind: z.literal("drag"),
      from: DesktopPoint,
      to: DesktopPoint,
      button: MouseButton,
      target: ElementDescription.optional(),
      /** The element under the drop point; absent when it is the same anchor as the start. */
      toTarget: ElementDescription.optional(),
    })
    .strict(),
  z
    .object({
      ...stepBase,
      kind: z.literal("scroll"),
      at: DesktopPoint,
      dx: z.number().int().min(-100).max(100),
      dy: z.number().int().min(-100).max(100),
      target: ElementDescription.optional(),
    })
    .strict(),
  z
    .object({
      ...stepBase,
      kind: z.literal("type"),
      typed: TypedText,
      field: ElementDescription.optional(),
      /** The index of the click step that put the focus in the field, when one did. */
      focusedBy: z.number().int().positive().optional(),
    })
    .strict(),
  z
    .object({
      ...stepBase,
      kind: z.literal("key"),
      keys: z.array(KeyName).min(1).max(5),
      label: z.string().min(1).max(60),
    })
    .strict(),
]);
export type RecordedStep = z.infer<typeof RecordedStep>;
export type StepKind = RecordedStep["kind"];

export const RecordingManifest = z
  .object({
    format: z.literal(RECORDING_FORMAT),
    version: z.literal(RECORDING_VERSION),
    id: RecordingId,
    title: z.string().min(1).max(200),
    createdAt: z.iso.datetime(),
    endedAt: z.iso.datetime().optional(),
    /** "recording" while steps are still coming (or when the app stopped before the end). */
    status: z.enum(["recording", "complete"]),
    /** The display the recording started on. */
    display: DisplayInfo,
    settings: RecordingSettings,
    steps: z.array(RecordedStep),
  })
  .strict();
export type RecordingManifest = z.infer<typeof RecordingManifest>;
