import { describe, expect, it } from 'vitest';
import { closureReason, endOfDayIn, marketDayAt, startOfDayIn } from './marketDay.js';

describe('the exchange calendar decision for a scheduled instant', () => {
  it('skips Independence Day with its name and runs the half day before it', () => {
    expect(marketDayAt('2025-07-04T12:30:00Z')).toEqual({
      date: '2025-07-04',
      open: false,
      reason: 'NYSE closed (Independence Day)',
      previousSession: '2025-07-03',
    });
    // July 3rd closes early (13:00) but trades: a pre-market report runs.
    expect(marketDayAt('2025-07-03T12:30:00Z')).toMatchObject({ date: '2025-07-03', open: true });
    expect(marketDayAt('2025-07-07T12:30:00Z')).toMatchObject({ open: true, previousSession: '2025-07-03' });
  });

  it('takes the date in New York, not in UTC: 23:30 in New York on July 3rd is still the 3rd', () => {
    expect(marketDayAt('2025-07-04T03:30:00Z')).toMatchObject({ date: '2025-07-03', open: true });
    expect(marketDayAt('2025-07-05T03:30:00Z')).toMatchObject({ date: '2025-07-04', open: false });
  });

  it('knows holidays that move (Good Friday, Thanksgiving) and special closures nyse-holidays does not list', () => {
    expect(marketDayAt('2025-04-18T12:30:00Z').reason).toBe('NYSE closed (Good Friday)');
    expect(marketDayAt('2026-11-26T13:30:00Z').reason).toBe('NYSE closed (Thanksgiving Day)');
    expect(marketDayAt('2025-01-09T13:30:00Z').reason).toBe('NYSE closed (National Day of Mourning for Jimmy Carter)');
    expect(marketDayAt('2012-10-29T12:30:00Z').reason).toBe('NYSE closed (Hurricane Sandy)');
    expect(closureReason('2025-07-05')).toBe('Saturday');
    expect(closureReason('2025-07-08')).toBeNull();
  });

  it('refuses what is not an instant', () => {
    expect(() => marketDayAt('not a time')).toThrow(RangeError);
  });

  it('finds midnight in a zone across daylight saving changes', () => {
    expect(startOfDayIn('2025-07-03', 'America/New_York').toISOString()).toBe('2025-07-03T04:00:00.000Z');
    expect(startOfDayIn('2025-01-03', 'America/New_York').toISOString()).toBe('2025-01-03T05:00:00.000Z');
    // The day the clocks go forward is 23 hours long.
    expect(
      endOfDayIn('2025-03-09', 'America/New_York').getTime() - startOfDayIn('2025-03-09', 'America/New_York').getTime(),
    ).toBe(23 * 3_600_000);
    expect(startOfDayIn('2025-07-03', 'Asia/Tokyo').toISOString()).toBe('2025-07-02T15:00:00.000Z');
  });
});
