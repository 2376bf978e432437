import { getHolidays } from 'nyse-holidays';
import { addDays, type IsoDate, isTradingDay, previousTradingDay } from './calendar.js';

/** The exchange's time zone: a scheduled instant is an exchange day in it. */
export const EXCHANGE_TIME_ZONE = 'America/New_York';

/** Names of the closures in trading/calendar.ts that nyse-holidays does not list. */
const SPECIAL_CLOSURE_NAMES: Record<IsoDate, string> = {
  '2001-09-11': 'September 11 attacks',
  '2001-09-12': 'September 11 attacks',
  '2001-09-13': 'September 11 attacks',
  '2001-09-14': 'September 11 attacks',
  '2004-06-11': 'National Day of Mourning for Ronald Reagan',
  '2007-01-02': 'National Day of Mourning for Gerald Ford',
  '2012-10-29': 'Hurricane Sandy',
  '2012-10-30': 'Hurricane Sandy',
  '2018-12-05': 'National Day of Mourning for George H. W. Bush',
  '2025-01-09': 'National Day of Mourning for Jimmy Carter',
};

/** Why the exchange is closed on `date`, or null when it trades. */
export function closureReason(date: IsoDate): string | null {
  if (isTradingDay(date)) return null;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  if (weekday === 0) return 'Sunday';
  if (weekday === 6) return 'Saturday';
  const year = Number(date.slice(0, 4));
  const holiday = getHolidays(year).find((h) => h.dateString === date);
  return holiday?.name ?? SPECIAL_CLOSURE_NAMES[date] ?? 'special closure';
}

/** The calendar date of an instant in a time zone. */
export function dateIn(instant: Date, timeZone: string): IsoDate {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    instant,
  );
}

export interface MarketDay {
  /** The exchange's date at the scheduled instant. */
  date: IsoDate;
  open: boolean;
  /** Why it is closed (`NYSE closed (Independence Day)`), when it is. */
  reason?: string;
  /** The last session before `date`: what a pre-market report of `date` is written on. */
  previousSession: IsoDate;
}

/**
 * What the exchange does on the day of a scheduled instant: the one decision scheduled work takes
 * before running (a holiday, a special closure or a weekend is skipped with its reason).
 */
export function marketDayAt(instant: Date | string): MarketDay {
  const at = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(at.getTime())) throw new RangeError(`not an instant: ${String(instant)}`);
  const date = dateIn(at, EXCHANGE_TIME_ZONE);
  const reason = closureReason(date);
  return {
    date,
    open: reason === null,
    ...(reason ? { reason: `NYSE closed (${reason})` } : {}),
    previousSession: previousTradingDay(date),
  };
}

/** The instant a calendar date starts in a time zone (midnight there), DST included. */
export function startOfDayIn(date: IsoDate, timeZone: string): Date {
  return wallTimeIn(date, '00:00', timeZone);
}

/** The instant a zone's clocks show `hhmm` on `date`, DST included. */
export function wallTimeIn(date: IsoDate, hhmm: string, timeZone: string): Date {
  // Guess the time in UTC, then correct by the zone's offset at that guess (twice, for a DST change that day).
  const asUtc = Date.parse(`${date}T${hhmm}:00Z`);
  let guess = new Date(asUtc);
  for (let i = 0; i < 2; i++) guess = new Date(asUtc - zoneOffsetMs(guess, timeZone));
  return guess;
}

/** The zone's offset from UTC at an instant, in milliseconds (New York in July: -4 h). */
function zoneOffsetMs(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/** The day after `date` starts: the exclusive end of a date range in a time zone. */
export function endOfDayIn(date: IsoDate, timeZone: string): Date {
  return startOfDayIn(addDays(date, 1), timeZone);
}
