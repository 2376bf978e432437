import OpenAI from 'openai';

/**
 * What an LLM provider's error means for a job, for every client that calls one (the trading agents and
 * the analysis team's voices): `transient` is worth another attempt later (unreachable, timing out,
 * overloaded or rate limited, or a 408/409 the provider asks to be retried, as the OpenAI SDK's own
 * retry rule has it); `rejected` no retry fixes (a bad key, an unknown model, a malformed request);
 * `aborted` is our own cancellation. Anything that is not the provider's error is `other`.
 */
export type ProviderErrorClass =
  | { kind: 'transient'; message: string }
  | { kind: 'rejected'; message: string }
  | { kind: 'aborted' }
  | { kind: 'other' };

/** Statuses a retry may fix (OpenAI SDK `shouldRetry`: 408, 409, 429 and every 5xx). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function classifyProviderError(err: unknown, model: string): ProviderErrorClass {
  if (err instanceof OpenAI.APIUserAbortError) return { kind: 'aborted' };
  if (err instanceof OpenAI.APIConnectionError) {
    // Includes APIConnectionTimeoutError, its subclass.
    return { kind: 'transient', message: `${model}: provider unreachable or timing out (${err.message})` };
  }
  if (err instanceof OpenAI.APIError) {
    const status = err.status ?? 0;
    return isTransientStatus(status)
      ? { kind: 'transient', message: `${model}: provider answered ${status} (${err.message})` }
      : { kind: 'rejected', message: `${model}: provider rejected the request with ${status} (${err.message})` };
  }
  return { kind: 'other' };
}
