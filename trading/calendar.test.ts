import { describe, expect, it } from 'vitest';
import {
  isIsoDate,
  isTradingDay,
  nextTradingDay,
  previousTradingDay,
  todayInNewYork,
  tradingDaysBetween,
} from './calendar.js';

describe('NYSE calendar', () => {
  it('skips weekends, holidays and special closures', () => {
    expect(isTradingDay('2025-03-08')).toBe(false); // Saturday
    expect(isTradingDay('2025-04-18')).toBe(false); // Good Friday
    expect(isTradingDay('2025-07-04')).toBe(false); // Independence Day
    expect(isTradingDay('2025-01-09')).toBe(false); // national day of mourning (Carter)
    expect(isTradingDay('2025-01-10')).toBe(true);
  });

  it('agrees with the trading days in the shared Alpha Vantage data', () => {
    // January 2025 in the file: 20 bars (New Year, Jan 9 closure and MLK day are missing).
    expect(tradingDaysBetween('2025-01-01', '2025-01-31')).toHaveLength(20);
    expect(tradingDaysBetween('2025-05-01', '2025-05-30')).toHaveLength(21);
  });

  it('finds neighbouring trading days across weekends and holidays', () => {
    expect(nextTradingDay('2025-04-17')).toBe('2025-04-21');
    expect(previousTradingDay('2025-05-27')).toBe('2025-05-23');
  });

  it('validates real dates only', () => {
    expect(isIsoDate('2025-02-29')).toBe(false);
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2025-1-02')).toBe(false);
  });

  it('tells the date in New York, not UTC', () => {
    expect(todayInNewYork(new Date('2026-11-24T01:30:00Z'))).toBe('2026-11-23');
  });
});
