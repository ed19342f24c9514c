/** Field schemas every protocol message shares. No imports beyond zod: both the host protocol and the renderer API use them. */
import { z } from "zod";

export const requestId = z.string().min(1).max(64);

export const byteCount = z.number().int().nonnegative();
