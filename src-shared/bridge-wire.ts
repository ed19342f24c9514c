/** The frames that carry the API over the headless bridge's WebSocket. */
import { z } from "zod";
import { ApiError } from "./bridge-api";

export const BridgeCall = z
  .object({ kind: z.literal("call"), id: z.number().int().nonnegative(), method: z.string(), input: z.unknown() })
  .strict();

export const BridgeServerFrame = z.union([
  z.object({ kind: z.literal("result"), id: z.number().int(), ok: z.literal(true), value: z.unknown() }).strict(),
  z.object({ kind: z.literal("result"), id: z.number().int(), ok: z.literal(false), error: ApiError }).strict(),
  z.object({ kind: z.literal("event"), event: z.string(), payload: z.unknown() }).strict(),
]);

export type BridgeCall = z.infer<typeof BridgeCall>;
export type BridgeServerFrame = z.infer<typeof BridgeServerFrame>;

export const BRIDGE_PATH = "/bridge";
