import { describe, expect, it } from 'vitest';
import { loadSettings } from './settings.js';

// Sign-in providers' settings: on with both halves of a client, addresses on a secure transport.

describe('OAuth sign-in settings', () => {
  it('a provider is on with a client id and secret, off with neither, a mistake with one', () => {
    expect(loadSettings({}).auth.google).toBeUndefined();
    const on = loadSettings({ TRADEFLOW_GOOGLE_CLIENT_ID: 'id', TRADEFLOW_GOOGLE_CLIENT_SECRET: 's' });
    expect(on.auth.google).toEqual({ clientId: 'id', clientSecret: 's', issuer: 'https://accounts.google.com' });
    expect(() => loadSettings({ TRADEFLOW_GITHUB_CLIENT_ID: 'id' })).toThrow(/needs both TRADEFLOW_GITHUB_CLIENT_ID/);
    // Compose passes unset variables as empty strings.
    expect(loadSettings({ TRADEFLOW_GITHUB_CLIENT_ID: '', TRADEFLOW_GITHUB_URL: '' }).auth.github).toBeUndefined();
  });

  it('GitHub Enterprise: the API is at <base>/api/v3 unless set; github.com keeps api.github.com', () => {
    const client = { TRADEFLOW_GITHUB_CLIENT_ID: 'id', TRADEFLOW_GITHUB_CLIENT_SECRET: 's' };
    expect(loadSettings(client).auth.github).toMatchObject({
      webUrl: 'https://github.com',
      apiUrl: 'https://api.github.com',
    });
    expect(loadSettings({ ...client, TRADEFLOW_GITHUB_URL: 'https://ghe.example.com/' }).auth.github).toMatchObject({
      webUrl: 'https://ghe.example.com',
      apiUrl: 'https://ghe.example.com/api/v3',
    });
  });

  it('credentials travel over https only, plain http only to this machine', () => {
    const google = { TRADEFLOW_GOOGLE_CLIENT_ID: 'id', TRADEFLOW_GOOGLE_CLIENT_SECRET: 's' };
    expect(() => loadSettings({ ...google, TRADEFLOW_GOOGLE_ISSUER: 'http://idp.example.com' })).toThrow(/https/);
    expect(loadSettings({ ...google, TRADEFLOW_GOOGLE_ISSUER: 'http://127.0.0.1:9000' }).auth.google?.issuer).toBe(
      'http://127.0.0.1:9000',
    );
    expect(() => loadSettings({ TRADEFLOW_GITHUB_API_URL: 'http://api.example.com' })).toThrow(/https/);
    expect(() => loadSettings({ TRADEFLOW_PUBLIC_URL: 'not a url' })).toThrow(/TRADEFLOW_PUBLIC_URL/);
  });
});
