import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { classifyProviderError } from './providerErrors.js';

const apiError = (status: number) =>
  OpenAI.APIError.generate(status, { error: { message: 'no' } }, 'no', new Headers());

describe('one reading of an LLM provider error, for every client', () => {
  it('retries what the provider asks to be retried: 408, 409, 429, 5xx, no connection, a timeout', () => {
    for (const status of [408, 409, 429, 500, 503]) {
      expect(classifyProviderError(apiError(status), 'gpt').kind, String(status)).toBe('transient');
    }
    expect(classifyProviderError(new OpenAI.APIConnectionError({ message: 'refused' }), 'gpt').kind).toBe('transient');
    expect(classifyProviderError(new OpenAI.APIConnectionTimeoutError(), 'gpt').kind).toBe('transient');
  });

  it('gives up on what no retry fixes, names the model and the status', () => {
    for (const status of [400, 401, 403, 404, 422]) {
      expect(classifyProviderError(apiError(status), 'gpt').kind, String(status)).toBe('rejected');
    }
    expect(classifyProviderError(apiError(401), 'gpt-x')).toMatchObject({
      message: expect.stringMatching(/^gpt-x: provider rejected the request with 401/),
    });
  });

  it('our own abort is an abort; anything else is not the provider’s', () => {
    expect(classifyProviderError(new OpenAI.APIUserAbortError(), 'gpt').kind).toBe('aborted');
    expect(classifyProviderError(new Error('bug'), 'gpt').kind).toBe('other');
  });
});
