import OpenAI from 'openai';
import { jobFailure } from '../../jobs/failures.js';
import { classifyProviderError } from '../../jobs/providerErrors.js';
import type { LlmModel } from '../../trading/agents/modelSpec.js';

export interface LlmChat {
  model: LlmModel;
  apiKey: string;
  signal?: AbortSignal;
}

/** A provider error as a Temporal failure: retry what may pass (overload, timeouts), not what cannot. */
function failure(err: unknown, model: string): Error {
  const c = classifyProviderError(err, model);
  if (c.kind === 'transient') return jobFailure('LlmUnavailable', c.message);
  if (c.kind === 'rejected') return jobFailure('AgentConfigurationError', c.message);
  return err instanceof Error ? err : new Error(String(err));
}

// Temporal owns retries and their backoff; the client's own would hide failures inside one attempt.
const clientFor = (c: LlmChat) =>
  new OpenAI({ apiKey: c.apiKey, baseURL: c.model.baseUrl, maxRetries: 0, timeout: c.model.timeoutMs });

/**
 * Streams a completion: `onDelta` gets each piece of text as the provider sends it (the caller publishes
 * it); returns the whole answer.
 */
export async function streamCompletion(
  c: LlmChat,
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>,
  onDelta: (text: string) => Promise<void>,
): Promise<string> {
  let text = '';
  try {
    const stream = await clientFor(c).chat.completions.create(
      {
        model: c.model.model,
        messages,
        stream: true,
        ...(c.model.temperature === undefined ? {} : { temperature: c.model.temperature }),
      },
      c.signal ? { signal: c.signal } : {},
    );
    for await (const part of stream) {
      const delta = part.choices[0]?.delta?.content;
      if (!delta) continue;
      text += delta;
      await onDelta(delta);
    }
  } catch (err) {
    throw failure(err, c.model.model);
  }
  if (!text.trim()) throw jobFailure('LlmUnavailable', `${c.model.model}: empty answer`);
  return text;
}

/**
 * The ticker a message is about, asked of the model when the offline search found none (a company it
 * does not know, a misspelling): one short completion that answers a symbol or NONE.
 */
export async function askTicker(c: LlmChat, message: string): Promise<string | null> {
  try {
    const completion = await clientFor(c).chat.completions.create(
      {
        model: c.model.model,
        messages: [
          {
            role: 'system',
            content:
              'Which listed stock does the user message refer to? Reply with its ticker symbol only (such as AAPL), or NONE.',
          },
          { role: 'user', content: message },
        ],
        temperature: 0,
      },
      c.signal ? { signal: c.signal } : {},
    );
    const said = completion.choices[0]?.message?.content?.trim().toUpperCase() ?? '';
    const symbol = said.match(/^\$?([A-Z][A-Z0-9.]{0,9})\b/)?.[1];
    return symbol && symbol !== 'NONE' ? symbol : null;
  } catch (err) {
    throw failure(err, c.model.model);
  }
}
