import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decisionTimeOf, NewsFileSource, newsVisibleAt } from './news.js';

describe('when an agent decides', () => {
  it('at the open, 09:30 New York, in winter and in summer, or at an hourly bar’s start', () => {
    expect(decisionTimeOf('2025-03-03').toISOString()).toBe('2025-03-03T14:30:00.000Z');
    expect(decisionTimeOf('2025-07-01').toISOString()).toBe('2025-07-01T13:30:00.000Z');
    expect(decisionTimeOf('2025-10-30T11:00').toISOString()).toBe('2025-10-30T15:00:00.000Z');
    // The day daylight saving starts (March 9, 2025): the open is already on summer time.
    expect(decisionTimeOf('2025-03-10').toISOString()).toBe('2025-03-10T13:30:00.000Z');
  });
});

describe('news an agent may see: point in time', () => {
  const lines = [
    { id: 'a', title: 'before the open', published_at: '2025-03-03T14:29:59Z', symbols: ['AAPL'] },
    { id: 'b', title: 'at the open', published_at: '2025-03-03T09:30:00-05:00', symbols: ['AAPL'] },
    { id: 'c', title: 'after the open', published_at: '2025-03-03T15:00:00Z', symbols: ['AAPL'] },
    { id: 'd', title: 'the day before', published_at: '2025-03-02T20:00:00Z', symbols: ['aapl'], url: 'https://x/1' },
    {
      id: 'e',
      title: 'the same story again',
      published_at: '2025-03-02T21:00:00Z',
      symbols: ['AAPL'],
      url: 'HTTPS://X/1',
    },
    { id: 'f', title: 'undated', symbols: ['AAPL'] },
    { id: 'g', title: 'no offset: ambiguous', published_at: '2025-03-01T10:00:00', symbols: ['AAPL'] },
    { id: 'h', title: 'another symbol', published_at: '2025-03-01T10:00:00Z', symbols: ['MSFT'] },
    { title: 'no id, a url', url: 'https://x/2', published_at: '2025-03-01T12:00:00Z', symbols: ['AAPL'] },
    { title: 'no id, no url', published_at: '2025-03-01T12:00:00Z', symbols: ['AAPL'] },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'news-'));
  const file = join(dir, 'news.jsonl');
  writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  const source = new NewsFileSource([file]);

  it('shows only items published before the decision, each once, newest first; drops undated ones', async () => {
    const seen = await newsVisibleAt(source, ['AAPL'], decisionTimeOf('2025-03-03'));
    // The story published twice is kept as it first appeared.
    expect(seen.map((n) => n.title)).toEqual(['before the open', 'the day before', 'no id, a url']);
    expect(seen.every((n) => Date.parse(n.publishedAt) < Date.parse('2025-03-03T14:30:00Z'))).toBe(true);
  });

  it('shows the later items to a later decision, and never the future to an earlier one', async () => {
    const later = await newsVisibleAt(source, ['AAPL'], decisionTimeOf('2025-03-04'));
    expect(later.map((n) => n.title)).toContain('after the open');
    expect(later.map((n) => n.title)).toContain('at the open');
    const earlier = await newsVisibleAt(source, ['AAPL'], decisionTimeOf('2025-02-28'));
    expect(earlier.map((n) => n.title)).toEqual([]);
    expect(await newsVisibleAt(source, ['AAPL'], decisionTimeOf('2025-03-04'), 2)).toHaveLength(2);
  });
});
