import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A new signing secret in the Standard Webhooks format: `whsec_` and 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Whether a value is usable as a signing secret (the library accepts it and it carries at least 16 bytes). */
export function isWebhookSecret(s: string): boolean {
  if (!s.startsWith('whsec_')) return false;
  const body = s.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || Buffer.from(body, 'base64').length < 16) return false;
  try {
    new Webhook(s);
    return true;
  } catch {
    return false;
  }
}

/** The Standard Webhooks headers of one send: the message id stays the same across retries, the time is the send's. */
export function signedHeaders(secret: string, msgId: string, at: Date, body: string): Record<string, string> {
  const signature = new Webhook(secret).sign(msgId, at, body);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
