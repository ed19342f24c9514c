/**
 * Writes the chat-completions body the agent sends its planner for an observed screen, built by the agent's
 * own prompt and schema code (src-main/agent), so a benchmark in another language times the real request.
 *
 *   npx tsx bench/planner_request.ts ELEMENTS.json OUT.json "instruction"
 *
 * ELEMENTS.json: the observe step's elements ({id, kind, text, confidence, box}) on a 1920x1080 display.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { planSchemaFor } from "../src-main/agent/openai-planner";
import type { PlanRequest } from "../src-main/agent/planner";
import { systemPrompt, userPrompt } from "../src-main/agent/prompt";
import { ScreenElement } from "../src-shared/bridge-api";

const [elementsPath, outPath, instruction = "export this as PDF"] = process.argv.slice(2);
if (!elementsPath || !outPath) throw new Error("usage: planner_request.ts ELEMENTS.json OUT.json [instruction]");

const elements = z.array(ScreenElement).parse(JSON.parse(readFileSync(elementsPath, "utf8")));
const request: PlanRequest = {
  instruction,
  elements,
  display: {
    id: "bench",
    name: "Bench 1080p",
    bounds: { x: 0, y: 0, width: 1920, height: 1080 },
    primary: true,
    scaleFactor: 1,
  },
};
const body = {
  model: "planner",
  messages: [
    { role: "system", content: systemPrompt(false) },
    { role: "user", content: userPrompt(request) },
  ],
  stream: true,
  temperature: 0,
  max_tokens: 768,
  response_format: { type: "json_schema", json_schema: { name: "plan", schema: planSchemaFor(request), strict: true } },
};
writeFileSync(outPath, `${JSON.stringify(body, null, 1)}\n`);
console.log(`${outPath}: ${elements.length} elements, ${body.messages[1]?.content.length} characters of screen`);
