import { isHoliday } from 'nyse-holidays';

/** A calendar date as `YYYY-MM-DD`; trading logic never needs a time of day. */
export type IsoDate = string;

/**
 * Closures that are not regular holidays: national days of mourning and weather closures.
 * nyse-holidays lists only the recurring holidays.
 */
const SPECIAL_CLOSURES = new Set<IsoDate>([
  '2001-09-11',
  '2001-09-12',
  '2001-09-13',
  '2001-09-14',
  '2004-06-11',
  '2007-01-02',
  '2012-10-29',
  '2012-10-30',
  '2018-12-05',
  '2025-01-09',
]);

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function isIsoDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

function parse(date: IsoDate): Date {
  if (!isIsoDate(date)) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  return new Date(`${date}T00:00:00Z`);
}

function format(d: Date): IsoDate {
  return d.toISOString().slice(0, 10);
}

export function addDays(date: IsoDate, days: number): IsoDate {
  const d = parse(date);
  d.setUTCDate(d.getUTCDate() + days);
  return format(d);
}

export function isTradingDay(date: IsoDate): boolean {
  const d = parse(date);
  const weekday = d.getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  if (SPECIAL_CLOSURES.has(date)) return false;
  // nyse-holidays compares local calendar fields, so hand it local noon of that date.
  const [y, m, day] = date.split('-').map(Number) as [number, number, number];
  return !isHoliday(new Date(y, m - 1, day, 12));
}

/** Trading days from `start` to `end`, both inclusive. */
export function tradingDaysBetween(start: IsoDate, end: IsoDate): IsoDate[] {
  const days: IsoDate[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) if (isTradingDay(d)) days.push(d);
  return days;
}

export function nextTradingDay(date: IsoDate): IsoDate {
  let d = addDays(date, 1);
  while (!isTradingDay(d)) d = addDays(d, 1);
  return d;
}

export function previousTradingDay(date: IsoDate): IsoDate {
  let d = addDays(date, -1);
  while (!isTradingDay(d)) d = addDays(d, -1);
  return d;
}

/** Today's date in New York, where the exchange is. */
export function todayInNewYork(now: Date = new Date()): IsoDate {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(now);
}
