import OpenAI from "openai";
import { Plan, planJsonSchema } from "../../src-shared/plan";
import { type Planner, type PlanOptions, PlanRejected, type PlanRequest } from "./planner";
import { SYSTEM_PROMPT, userPrompt } from "./prompt";

export type OpenAiPlannerOptions = {
  /** The endpoint's base, e.g. the host's `http://127.0.0.1:PORT/v1`, resolved per request (the host may restart). */
  endpoint: () => Promise<{ baseURL: string; apiKey: string }>;
  /** A model id, or a role the host resolves ("planner"). */
  model?: string;
  maxTokens?: number;
};

/**
 * A planner behind any OpenAI-compatible endpoint: the host's own, or vLLM's.
 * The plan's JSON Schema goes out as `response_format`, so a host that enforces
 * it (the built-in one does, by constrained decoding) can only answer a plan
 * that parses; the answer is still parsed here, and one that fails never runs.
 */
export class OpenAiPlanner implements Planner {
  readonly name: string;

  constructor(private readonly options: OpenAiPlannerOptions) {
    this.name = options.model ?? "planner";
  }

  async plan(request: PlanRequest, { signal, onText, onModel }: PlanOptions): Promise<Plan> {
    const { baseURL, apiKey } = await this.options.endpoint();
    const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
    const stream = await client.chat.completions.create(
      {
        model: this.options.model ?? "planner",
        messages: [
          { role: "system", content: SYSTEM_PROMPT },
          { role: "user", content: userPrompt(request) },
        ],
        stream: true,
        temperature: 0,
        max_tokens: this.options.maxTokens ?? 768,
        response_format: {
          type: "json_schema",
          json_schema: { name: "plan", schema: planJsonSchema(request.elements.map((e) => e.id)), strict: true },
        },
      },
      { signal },
    );
    let text = "";
    let finish: string | null = null;
    let model: string | undefined;
    for await (const chunk of stream) {
      if (chunk.model && chunk.model !== model) {
        model = chunk.model;
        onModel?.(model);
      }
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.content) {
        text += choice.delta.content;
        onText?.(text);
      }
      finish = choice.finish_reason ?? finish;
    }
    return parsePlan(text, finish);
  }
}

export function parsePlan(text: string, finishReason: string | null): Plan {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const why = finishReason === "length" ? "the planner ran out of tokens" : "the planner's answer is not JSON";
    throw new PlanRejected(`${why}; nothing was executed`);
  }
  const plan = Plan.safeParse(json);
  if (!plan.success)
    throw new PlanRejected(
      `the planner's plan does not fit the action schema; nothing was executed (${plan.error.issues[0]?.message ?? ""})`,
    );
  return plan.data;
}
