import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { isWebhookSecret, newWebhookSecret, signedHeaders } from './signing.js';

describe('webhook signing (Standard Webhooks)', () => {
  const secret = newWebhookSecret();
  const body = JSON.stringify({ type: 'job.completed', data: { job_id: 'j1' } });

  it('signs so that the library’s own verifier accepts the event and returns its payload', () => {
    const headers = signedHeaders(secret, 'msg_1', new Date(), body);
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('is refused by the verifier for another secret, another body, another id or an old timestamp', () => {
    const headers = signedHeaders(secret, 'msg_1', new Date(), body);
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body.replace('j1', 'j2'), headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow(
      WebhookVerificationError,
    );
    const old = signedHeaders(secret, 'msg_1', new Date(Date.now() - 10 * 60_000), body);
    expect(() => new Webhook(secret).verify(body, old)).toThrow(WebhookVerificationError);
  });

  it('makes secrets in the whsec_ format, each new, and tells a bad one', () => {
    const a = newWebhookSecret();
    expect(isWebhookSecret(a)).toBe(true);
    expect(a).not.toBe(newWebhookSecret());
    expect(isWebhookSecret('hunter2')).toBe(false);
    expect(isWebhookSecret('whsec_')).toBe(false);
    expect(isWebhookSecret('whsec_c2hvcnQ=')).toBe(false);
    expect(isWebhookSecret('whsec_not base64!')).toBe(false);
  });
});
