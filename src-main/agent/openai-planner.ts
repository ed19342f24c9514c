import OpenAI from "openai";
import { Plan, planJsonSchema } from "../../src-shared/plan";
import { type Planner, type PlanOptions, PlanRejected, type PlanRequest } from "./planner";
import { elementCharBudget, systemPrompt, userPrompt } from "./prompt";

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

  async plan(request: PlanRequest, options: PlanOptions): Promise<Plan> {
    const { baseURL, apiKey } = await this.options.endpoint();
    const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
    const maxTokens = this.options.maxTokens ?? 768;
    const context = await this.contextLength(client, baseURL, options.signal);
    const budget = (charsPerToken?: number) =>
      context ? elementCharBudget(context, maxTokens, request, charsPerToken) : Number.POSITIVE_INFINITY;
    const first = userPrompt(request, budget());
    try {
      return await this.complete(client, request, first, maxTokens, options);
    } catch (error) {
      // A tokenizer finer than the estimate: the endpoint says how many tokens the prompt took, so the
      // second try lists as many elements as the measured ratio allows.
      const tokens = promptTokensOf(error);
      if (!context || tokens === undefined) throw error;
      const measured = ((systemPrompt(request.canPoint).length + first.length) / tokens) * 0.9;
      return this.complete(client, request, userPrompt(request, budget(measured)), maxTokens, options);
    }
  }

  private async complete(
    client: OpenAI,
    request: PlanRequest,
    prompt: string,
    maxTokens: number,
    { signal, onText, onModel }: PlanOptions,
  ): Promise<Plan> {
    const stream = await client.chat.completions.create(
      {
        model: this.options.model ?? "planner",
        messages: [
          { role: "system", content: systemPrompt(request.canPoint) },
          { role: "user", content: prompt },
        ],
        stream: true,
        temperature: 0,
        max_tokens: maxTokens,
        response_format: {
          type: "json_schema",
          json_schema: { name: "plan", schema: planSchemaFor(request), strict: true },
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

  private async contextLength(client: OpenAI, baseURL: string, signal: AbortSignal): Promise<number | undefined> {
    const name = this.options.model ?? "planner";
    const key = `${baseURL} ${name}`;
    if (contextLengths.has(key)) return contextLengths.get(key);
    let found: number | undefined;
    try {
      const list = await client.models.list({ signal });
      for (const model of list.data) {
        const extra = model as unknown as { role?: unknown; context_length?: unknown; max_model_len?: unknown };
        if (model.id !== name && extra.role !== name) continue;
        const length = extra.context_length ?? extra.max_model_len;
        if (typeof length === "number" && length > 0) found = length;
      }
    } catch {
      return undefined; // an endpoint without a model list: no budget, and the model's own error if it overruns
    }
    contextLengths.set(key, found);
    return found;
  }
}

/** The response_format's schema: this screen's element ids, and described targets only where the host can point. */
export function planSchemaFor(request: PlanRequest): Record<string, unknown> {
  return planJsonSchema(
    request.elements.map((e) => e.id),
    { canPoint: request.canPoint === true },
  );
}

/** Context lengths by endpoint and model, as the endpoint's model list states them (the host's and vLLM's do). */
const contextLengths = new Map<string, number | undefined>();

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

/**
 * The prompt's size in tokens, from an endpoint's "context exceeded" answer: the host's
 * ("the prompt (4628 tokens) plus max_tokens …") or vLLM's ("… (4232 in the messages, …").
 */
export function promptTokensOf(error: unknown): number | undefined {
  if (!(error instanceof OpenAI.APIError) || error.status !== 400) return undefined;
  const match = /prompt \((\d+) tokens\)|(\d+) in the messages/.exec(error.message);
  const count = Number(match?.[1] ?? match?.[2]);
  return Number.isFinite(count) && count > 0 ? count : undefined;
}
