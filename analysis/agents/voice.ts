import OpenAI from 'openai';
import { classifyProviderError } from '../../jobs/providerErrors.js';
import type { LlmSpec, LlmUsage } from '../contract.js';

/** What one agent hands to its voice: its role, the facts it worked from, and its own draft. */
export interface AgentBrief {
  role: string;
  instructions: string;
  facts: string;
  /** The deterministic analysis: what the agent says when no model speaks for it. */
  draft: string;
}

/**
 * Turns an agent's brief into the prose it publishes. The deterministic voice publishes the draft;
 * the LLM voice asks an OpenAI-compatible model to write it, with the draft as a starting point.
 */
export interface AgentVoice {
  readonly kind: 'deterministic' | 'llm';
  speak(brief: AgentBrief): Promise<string>;
  usage(): LlmUsage;
}

export class LlmTimeoutError extends Error {
  override name = 'LlmTimeout';
}

export class LlmRequestError extends Error {
  override name = 'LlmRequestError';
}

export const NO_USAGE: LlmUsage = { calls: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };

export class DeterministicVoice implements AgentVoice {
  readonly kind = 'deterministic' as const;
  async speak(brief: AgentBrief): Promise<string> {
    return brief.draft;
  }
  usage(): LlmUsage {
    return NO_USAGE;
  }
}

export class LlmVoice implements AgentVoice {
  readonly kind = 'llm' as const;
  private readonly client: OpenAI;
  private total: LlmUsage = { ...NO_USAGE };

  constructor(
    private readonly spec: Extract<LlmSpec, { mode: 'openai' }>,
    apiKey: string,
    private readonly onCall?: (call: { role: string; promptTokens: number; completionTokens: number }) => void,
  ) {
    // Retries belong to Temporal (the job is retried as `llm_timeout`), not to the client.
    this.client = new OpenAI({ apiKey, baseURL: spec.baseURL, maxRetries: 0, timeout: spec.requestTimeoutMs });
  }

  async speak(brief: AgentBrief): Promise<string> {
    let completion: OpenAI.ChatCompletion;
    try {
      completion = await this.client.chat.completions.create({
        model: this.spec.model,
        messages: [
          { role: 'system', content: `You are the ${brief.role} of an equity research team. ${brief.instructions}` },
          {
            role: 'user',
            content: `Facts (computed from market data; do not invent others):\n${brief.facts}\n\nDraft to improve:\n${brief.draft}`,
          },
        ],
      });
    } catch (err) {
      throw classifyVoiceError(err, this.spec.name);
    }
    const prompt = completion.usage?.prompt_tokens ?? 0;
    const output = completion.usage?.completion_tokens ?? 0;
    const price = this.spec.pricing;
    this.total = {
      calls: this.total.calls + 1,
      promptTokens: this.total.promptTokens + prompt,
      completionTokens: this.total.completionTokens + output,
      costUsd:
        this.total.costUsd +
        (price ? (prompt * price.promptPerMillion + output * price.completionPerMillion) / 1_000_000 : 0),
    };
    this.onCall?.({ role: brief.role, promptTokens: prompt, completionTokens: output });
    const text = completion.choices[0]?.message?.content?.trim();
    return text ? text : brief.draft;
  }

  usage(): LlmUsage {
    return { ...this.total };
  }
}

/**
 * Overload and timeouts are `llm_timeout` (retry later); anything else the provider rejects is final
 * (jobs/providerErrors.ts reads the error for every client alike).
 */
export function classifyVoiceError(err: unknown, model: string): Error {
  const c = classifyProviderError(err, model);
  if (c.kind === 'transient') return new LlmTimeoutError(c.message);
  if (c.kind === 'rejected') return new LlmRequestError(c.message);
  return err instanceof Error ? err : new Error(String(err));
}
