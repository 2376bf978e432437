import { describe, expect, it } from 'vitest';
import { fixtureFetch, loadYahooFixtures } from '../../test/support/fakeYahoo.js';
import type { Bar } from '../bars.js';
import { completeDailyBars, YahooSource } from './yahoo.js';

// A job never trades on a bar that is still forming: today's daily bar counts from 16:30 New York.

const bar = (date: string): Bar => ({ date, open: 1, high: 1, low: 1, close: 1, volume: 1 });
const dates = (bars: readonly Bar[]) => bars.map((b) => b.date);

describe("Yahoo's daily bars, complete ones only", () => {
  const week = ['2025-03-05', '2025-03-06', '2025-03-07'].map(bar);

  it("drops today's bar until half an hour after the close, New York time (EST)", () => {
    // 2025-03-07 is a Friday in EST (UTC-5): 16:30 New York is 21:30 UTC.
    expect(dates(completeDailyBars(week, new Date('2025-03-07T14:31:00Z')))).toEqual(['2025-03-05', '2025-03-06']);
    expect(dates(completeDailyBars(week, new Date('2025-03-07T21:29:59Z')))).toEqual(['2025-03-05', '2025-03-06']);
    expect(dates(completeDailyBars(week, new Date('2025-03-07T21:30:00Z')))).toEqual(dates(week));
    // Past midnight in London but still the 7th in New York, after its close: the bar is final.
    expect(dates(completeDailyBars(week, new Date('2025-03-08T02:00:00Z')))).toEqual(dates(week));
  });

  it('follows New York across daylight saving (EDT)', () => {
    const july = ['2025-07-10', '2025-07-11'].map(bar);
    // EDT (UTC-4): 16:30 New York is 20:30 UTC; 21:00 UTC would be past it, 20:29 UTC is not.
    expect(dates(completeDailyBars(july, new Date('2025-07-11T20:29:00Z')))).toEqual(['2025-07-10']);
    expect(dates(completeDailyBars(july, new Date('2025-07-11T20:30:00Z')))).toEqual(dates(july));
  });

  it('never keeps a bar dated after today', () => {
    expect(dates(completeDailyBars(week, new Date('2025-03-06T23:00:00Z')))).toEqual(['2025-03-05', '2025-03-06']);
  });

  it('YahooSource drops the forming bar and the halted row from a chart, and ends its data yesterday', async () => {
    const requests: string[] = [];
    // Friday 2025-03-07, 11:00 in New York: the day's bar is in Yahoo's answer but not final.
    const during = new YahooSource(['AAPL'], {
      fetch: fixtureFetch(undefined, requests),
      now: () => new Date('2025-03-07T16:00:00Z'),
    });
    const series = await during.loadDaily(['AAPL'], '2025-03-03', '2025-03-07');
    // 2025-03-05 comes as a row of nulls (a halt) and is no bar; 2025-03-07 is still forming.
    expect(dates(series.get('AAPL')!)).toEqual(['2025-03-03', '2025-03-04', '2025-03-06']);
    expect(series.get('AAPL')![0]).toEqual({
      date: '2025-03-03',
      open: 241.79,
      high: 244.03,
      low: 236.11,
      close: 238.03,
      volume: 47184000,
    });
    expect(await during.latestDate()).toBe('2025-03-06');
    // The real client's request, as the fixture records it: daily, from the first day to the day after the last.
    const recorded = new URL(loadYahooFixtures().get('AAPL')!.request.url);
    expect(requests).toEqual([`${recorded.pathname}${recorded.search}`]);

    const after = new YahooSource(['AAPL'], { fetch: fixtureFetch(), now: () => new Date('2025-03-07T23:00:00Z') });
    const final = (await after.loadDaily(['AAPL'], '2025-03-03', '2025-03-07')).get('AAPL')!;
    expect(dates(final)).toEqual(['2025-03-03', '2025-03-04', '2025-03-06', '2025-03-07']);
    expect(final.at(-1)).toMatchObject({ open: 235.11, close: 239.07, volume: 46273600 });
  });
});
