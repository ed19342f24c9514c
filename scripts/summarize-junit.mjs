#!/usr/bin/env node
/** Adds up the JUnit reports of every test runner into one closing line. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? "test-reports";
let tests = 0;
let failures = 0;
let skipped = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".xml"))) {
  const xml = readFileSync(join(dir, file), "utf8");
  // Count <testcase> elements rather than suite attributes, which runners fill differently.
  for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    tests++;
    const body = match[2] ?? "";
    if (/<(failure|error)\b/.test(body)) failures++;
    else if (/<skipped\b/.test(body)) skipped++;
  }
}
if (tests === 0) {
  console.log("no tests ran");
  process.exit(1);
}
console.log(`${tests - failures - skipped} passed, ${failures} failed, ${skipped} skipped`);
