import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_ALLOW_LIST } from '../jobs/webhookPolicy.js';
import { loadSettings } from './settings.js';
import { webhookSecret, webhookSecretPath } from './webhookSecret.js';

describe('the webhook signing secret', () => {
  it('is generated once into the data folder, owner-only, and read back the same after', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tf-secret-')), 'data');
    const first = webhookSecret({ dataDir, webhooks: { allow: NO_ALLOW_LIST } });
    expect(first).toMatch(/^whsec_/);
    expect(statSync(webhookSecretPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(webhookSecret({ dataDir, webhooks: { allow: NO_ALLOW_LIST } })).toBe(first);
    expect(readFileSync(webhookSecretPath(dataDir), 'utf8').trim()).toBe(first);
  });

  it('is the setting when set, and refuses a setting or a file that is no secret', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tf-secret-'));
    const set = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(webhookSecret({ dataDir, webhooks: { secret: set, allow: NO_ALLOW_LIST } })).toBe(set);
    expect(() => webhookSecret({ dataDir, webhooks: { secret: 'whsec_c2hvcnQ=', allow: NO_ALLOW_LIST } })).toThrow(
      /not a usable secret/,
    );
    writeFileSync(webhookSecretPath(dataDir), 'garbage');
    expect(() => webhookSecret({ dataDir, webhooks: { allow: NO_ALLOW_LIST } })).toThrow(/does not hold/);
  });
});

describe('webhook settings from the environment', () => {
  it('takes an empty secret as unset, refuses a malformed one, and parses the allow-list', () => {
    expect(loadSettings({ TRADEFLOW_WEBHOOK_SECRET: '' }).webhooks.secret).toBeUndefined();
    expect(() => loadSettings({ TRADEFLOW_WEBHOOK_SECRET: 'hunter2' })).toThrow(/TRADEFLOW_WEBHOOK_SECRET/);
    const allow = loadSettings({ TRADEFLOW_WEBHOOK_ALLOW: '127.0.0.1, 10.0.0.0/8,hooks.internal' }).webhooks.allow;
    expect(allow.cidrs).toHaveLength(2);
    expect(allow.hosts).toEqual(['hooks.internal']);
    expect(loadSettings({}).webhooks.allow).toEqual(NO_ALLOW_LIST);
    expect(() => loadSettings({ TRADEFLOW_WEBHOOK_ALLOW: '10.0.0.0/40' })).toThrow(/TRADEFLOW_WEBHOOK_ALLOW/);
  });
});
