/** Merges benchmark rows (JSON arrays, one per argument), prints a table and writes bench/results/<name>-<host>.json. */
import { mkdirSync, writeFileSync } from "node:fs";
import { machine } from "./machine";

const [name, ...chunks] = process.argv.slice(2);
if (!name) throw new Error("usage: report.ts NAME JSON…");
const rows = chunks.flatMap((chunk) => JSON.parse(chunk) as Array<Record<string, unknown>>);
const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
const cell = (v: unknown) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));
const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join("  ");
console.log(line(columns));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))));
const host = machine();
mkdirSync("bench/results", { recursive: true });
const file = `bench/results/${name}-${String(host.hostname).replace(/[^\w.-]/g, "_")}.json`;
writeFileSync(
  file,
  `${JSON.stringify({ benchmark: name, date: new Date().toISOString(), machine: host, unit: "ms", rows }, null, 2)}\n`,
);
console.log(`wrote ${file}`);
