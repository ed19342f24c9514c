/** Writes (or with --check, verifies) the host's generated copy of the protocol. */
import { readFileSync, writeFileSync } from "node:fs";
import { GENERATED_FILES } from "../src-shared/protocol/codegen";

const check = process.argv.includes("--check");
let stale = 0;
for (const [path, build] of Object.entries(GENERATED_FILES)) {
  const want = build();
  if (check) {
    let have = "";
    try {
      have = readFileSync(path, "utf8");
    } catch {}
    if (have !== want) {
      console.error(`${path} is stale: run npm run gen:protocol`);
      stale++;
    }
  } else {
    writeFileSync(path, want);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale ? 1 : 0);
