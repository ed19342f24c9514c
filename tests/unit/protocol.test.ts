import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ElementKind } from "../../src-shared/bridge-api";
import { GENERATED_FILES } from "../../src-shared/protocol/codegen";
import { ClientMessage, HostMessage } from "../../src-shared/protocol/host-messages";
import { TelemetrySourceKind } from "../../src-shared/protocol/telemetry";

type Vector = { name: string; direction: "client" | "host"; valid: boolean; message: unknown };
const vectors = JSON.parse(readFileSync("protocol-vectors/messages.json", "utf8")) as Vector[];

describe("protocol vectors (the Python host runs the same file)", () => {
  it("has both valid and invalid examples in both directions", () => {
    for (const direction of ["client", "host"] as const) {
      const mine = vectors.filter((v) => v.direction === direction);
      expect(mine.some((v) => v.valid)).toBe(true);
      expect(mine.some((v) => !v.valid)).toBe(true);
    }
  });

  it.each(vectors.map((v) => [v.name, v] as const))("%s", (_name, vector) => {
    const schema = vector.direction === "client" ? ClientMessage : HostMessage;
    expect(schema.safeParse(vector.message).success).toBe(vector.valid);
  });
});

describe("generated host protocol files", () => {
  it.each(Object.keys(GENERATED_FILES))("%s is up to date (npm run gen:protocol)", (path) => {
    const build = GENERATED_FILES[path as keyof typeof GENERATED_FILES];
    expect(readFileSync(path, "utf8")).toBe(build());
  });
});

describe("enums the host imports by name (its vision vocabulary and telemetry use them, not copies)", () => {
  const python = readFileSync("inference/sightline_host/protocol/types.py", "utf8");
  const schema = JSON.parse(readFileSync("inference/sightline_host/protocol/schema.json", "utf8")) as {
    $defs: Record<string, { enum?: unknown[] }>;
  };
  it.each([
    ["ElementKind", ElementKind.options],
    ["TelemetrySourceKind", TelemetrySourceKind.options],
  ] as const)(
    "%s is a Literal alias in types.py and a $def in schema.json, with zod's members in order",
    (name, options) => {
      expect(python).toContain(`\n${name} = Literal[${options.map((o) => JSON.stringify(o)).join(", ")}]\n`);
      expect(schema.$defs[name]?.enum).toEqual([...options]);
    },
  );
});
