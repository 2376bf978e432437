import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import type { Settings } from './settings.js';

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

/** Where a generated signing secret is kept: in the data folder, readable by its owner only. */
export const webhookSecretPath = (dataDir: string) => join(dataDir, 'webhook-secret');

/**
 * The completion webhooks' signing secret: `TRADEFLOW_WEBHOOK_SECRET`, else the one generated into the
 * data folder at first start (the first process to write it wins; the others read it). Never logged.
 */
export function webhookSecret(settings: Pick<Settings, 'webhooks' | 'dataDir'>): string {
  if (settings.webhooks.secret) {
    if (!isWebhookSecret(settings.webhooks.secret)) {
      throw new Error('TRADEFLOW_WEBHOOK_SECRET is not a usable secret: whsec_ and at least 16 bytes in base64');
    }
    return settings.webhooks.secret;
  }
  const path = webhookSecretPath(settings.dataDir);
  mkdirSync(settings.dataDir, { recursive: true });
  try {
    writeFileSync(path, `${newWebhookSecret()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = readFileSync(path, 'utf8').trim();
  if (!isWebhookSecret(secret))
    throw new Error(`${path} does not hold a webhook secret (whsec_…): remove it to make a new one`);
  return secret;
}
