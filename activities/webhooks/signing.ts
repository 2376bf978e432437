import { Webhook } from 'standardwebhooks';

// The secret's format belongs to its configuration (config/webhookSecret.ts); signing uses it here.
export { isWebhookSecret, newWebhookSecret } from '../../config/webhookSecret.js';

/** The Standard Webhooks headers of one send: the message id stays the same across retries, the time is the send's. */
export function signedHeaders(secret: string, msgId: string, at: Date, body: string): Record<string, string> {
  const signature = new Webhook(secret).sign(msgId, at, body);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
