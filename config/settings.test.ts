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

describe('market data settings', () => {
  it('default to auto (decided at start), to files when files are named', () => {
    expect(loadSettings({}).marketData).toEqual({ source: 'auto', seed: 42 });
    // Compose passes an unset variable as an empty string.
    expect(loadSettings({ MARKET_DATA_SOURCE: '' }).marketData.source).toBe('auto');
    expect(loadSettings({ MARKET_DATA_FILES: '/data/a.jsonl' }).marketData).toEqual({
      source: 'files',
      files: ['/data/a.jsonl'],
    });
    expect(loadSettings({ MARKET_DATA_SOURCE: 'synthetic' }).marketData).toEqual({ source: 'synthetic', seed: 42 });
  });

  it('Yahoo trades the NASDAQ-100 unless MARKET_SYMBOLS names others', () => {
    const yahoo = loadSettings({ MARKET_DATA_SOURCE: 'yahoo' }).marketData;
    expect(yahoo).toMatchObject({ source: 'yahoo', symbols: expect.arrayContaining(['AAPL', 'GOOG', 'GOOGL']) });
    expect(yahoo.symbols).toHaveLength(101);
    expect(loadSettings({ MARKET_DATA_SOURCE: 'yahoo', MARKET_SYMBOLS: 'brk-b, nvda' }).marketData).toEqual({
      source: 'yahoo',
      symbols: ['BRK-B', 'NVDA'],
    });
  });

  it('TRADEFLOW_YAHOO_URL (tests) points the client elsewhere: loopback over http, else https', () => {
    const loopback = 'http://127.0.0.1:9999';
    expect(loadSettings({ TRADEFLOW_YAHOO_URL: loopback }).marketData).toMatchObject({ yahooUrl: loopback });
    expect(loadSettings({ MARKET_DATA_SOURCE: 'yahoo', TRADEFLOW_YAHOO_URL: loopback }).marketData).toMatchObject({
      yahooUrl: loopback,
    });
    expect(() => loadSettings({ TRADEFLOW_YAHOO_URL: 'http://yahoo.example.com' })).toThrow(/TRADEFLOW_YAHOO_URL/);
    expect(loadSettings({ TRADEFLOW_YAHOO_URL: '' }).marketData).toEqual({ source: 'auto', seed: 42 });
  });
});

describe('job writes', () => {
  it('take a few at a time on their own queue unless JOB_WRITES_CONCURRENCY says otherwise', () => {
    const s = loadSettings({ TASK_QUEUE_PREFIX: 'p-' });
    expect(s.jobWritesConcurrency).toBe(4);
    expect(s.taskQueues.jobWrites).toBe('p-job-writes');
    expect(loadSettings({ JOB_WRITES_CONCURRENCY: '8' }).jobWritesConcurrency).toBe(8);
    expect(() => loadSettings({ JOB_WRITES_CONCURRENCY: '0' })).toThrow(/JOB_WRITES_CONCURRENCY/);
  });
});
