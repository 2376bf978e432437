import { type IsoDate, nextTradingDay, previousTradingDay } from './calendar.js';

/**
 * Hourly bars as AI-Trader's hour agent trades them: one session per bar from 10:00 to 15:00 New York
 * time, each named by a bar key `YYYY-MM-DDTHH:MM` (the bar's start). Bar keys sort as text, after their
 * day's date and before the next day's, so everything keyed by date (the ledger, the plan, the market
 * view) orders hourly bars by the same comparison.
 */
export const SESSION_HOURS = ['10:00', '11:00', '12:00', '13:00', '14:00', '15:00'] as const;

export type Interval = '1d' | '1h';

const BAR_KEY = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})$/;

export function isBarKey(s: string): boolean {
  return BAR_KEY.test(s);
}

export const barKey = (day: IsoDate, hour: string) => `${day}T${hour}`;

/** The trading day a date or bar key falls on. */
export const dayOf = (dateOrKey: string): IsoDate => dateOrKey.slice(0, 10);

/** An upper bound for `<=` comparisons that takes in every bar of `day` (and the day itself). */
export const endOfDay = (day: IsoDate) => `${dayOf(day)}~`;

/** The bar after `key` in AI-Trader's sessions: the next hour, or the next trading day's first. */
export function nextBarKey(key: string): string {
  const [, day, hour] = BAR_KEY.exec(key) ?? [];
  if (!day || !hour) throw new RangeError(`not a bar key: ${key}`);
  const i = SESSION_HOURS.indexOf(hour as (typeof SESSION_HOURS)[number]);
  return i >= 0 && i + 1 < SESSION_HOURS.length
    ? barKey(day, SESSION_HOURS[i + 1]!)
    : barKey(nextTradingDay(day), '10:00');
}

/** The bar before `key`: the previous hour, or the previous trading day's last. */
export function previousBarKey(key: string): string {
  const [, day, hour] = BAR_KEY.exec(key) ?? [];
  if (!day || !hour) throw new RangeError(`not a bar key: ${key}`);
  const i = SESSION_HOURS.indexOf(hour as (typeof SESSION_HOURS)[number]);
  return i > 0 ? barKey(day, SESSION_HOURS[i - 1]!) : barKey(previousTradingDay(day), SESSION_HOURS.at(-1)!);
}

/** Periods a year for annualizing: 252 trading days, each of six hourly sessions for hourly bars. */
export function periodsPerYearOf(dateOrKey: string | undefined): number {
  return dateOrKey !== undefined && isBarKey(dateOrKey) ? 252 * SESSION_HOURS.length : 252;
}
