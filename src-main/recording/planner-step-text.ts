/**
 * Step sentences written by the planner model, where the host has one loaded:
 * the model rewrites the template sentence for a reader ("Click **Save**" →
 * "Click **Save** to keep the draft"), constrained to a one-field JSON answer.
 * Every bold name and quoted text of the template must survive word for word,
 * so the model can add words but never rename a control or invent typed text;
 * anything else throws, and the recorder keeps the template.
 */
import OpenAI from "openai";
import { type StepFacts, type StepTextWriter, templateStepText } from "./step-text";

export type PlannerEndpoint = () => Promise<{ baseURL: string; apiKey: string }>;

const MAX_SENTENCE = 140;

const SYSTEM = [
  "You write one step of a software tutorial as a short imperative sentence.",
  "Rewrite the given sentence for a reader; keep every **bold** name and every quoted text exactly as given.",
  'Answer as JSON: {"sentence": "..."}.',
].join("\n");

/** The template's bold names and quoted texts: what a written sentence must keep. */
export function keptParts(template: string): string[] {
  return [...template.matchAll(/\*\*(.+?)\*\*|"([^"]+)"/g)].map((m) => (m[1] ? `**${m[1]}**` : `"${m[2]}"`));
}

/** The written sentence, if it keeps the template's parts and reads as one short sentence. */
export function acceptSentence(template: string, written: string): string {
  const sentence = written.replace(/\s+/g, " ").trim();
  if (!sentence || sentence.length > MAX_SENTENCE) throw new Error("the written sentence is empty or too long");
  const missing = keptParts(template).filter((part) => !sentence.includes(part));
  if (missing.length > 0) throw new Error(`the written sentence drops ${missing.join(", ")}`);
  if (!/^\p{Lu}/u.test(sentence)) throw new Error("the written sentence does not start as a sentence");
  return sentence;
}

/** Whether the host has its planner loaded (its lifecycle list): step text never makes the host load a model. */
async function plannerLoaded(baseURL: string, apiKey: string): Promise<boolean> {
  const root = baseURL.replace(/\/v1\/?$/, "");
  const response = await fetch(`${root}/models`, {
    headers: { Authorization: `Bearer ${apiKey}` },
    signal: AbortSignal.timeout(3000),
  });
  if (!response.ok) return false;
  const body = (await response.json()) as { models?: Array<{ role?: string; loaded?: boolean }> };
  return body.models?.some((m) => m.role === "planner" && m.loaded === true) ?? false;
}

export function plannerStepTextWriter(endpoint: PlannerEndpoint): StepTextWriter {
  return async (facts: StepFacts) => {
    const template = templateStepText(facts);
    const { baseURL, apiKey } = await endpoint();
    if (!(await plannerLoaded(baseURL, apiKey))) throw new Error("no planner model is loaded");
    const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20_000 });
    const where = facts.windowTitle ? ` (in the window "${facts.windowTitle.slice(0, 80)}")` : "";
    const answer = await client.chat.completions.create({
      model: "planner",
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: `Sentence: ${template}${where}` },
      ],
      temperature: 0,
      max_tokens: 80,
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "step",
          strict: true,
          schema: {
            type: "object",
            properties: { sentence: { type: "string", minLength: 1, maxLength: MAX_SENTENCE } },
            required: ["sentence"],
            additionalProperties: false,
          },
        },
      },
    });
    const text = answer.choices[0]?.message.content ?? "";
    const { sentence } = JSON.parse(text) as { sentence: string };
    return acceptSentence(template, sentence);
  };
}
