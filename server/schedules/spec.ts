import { z } from '@hono/zod-openapi';
import type { CalendarSpec, DayOfWeek, LooseRange, Month, ScheduleSpec } from '@temporalio/client';
import { ANALYSTS, PIPELINES } from '../../analysis/contract.js';
import { isIsoDate } from '../../trading/calendar.js';

// The typed schedule a client sends (`POST /schedules`), and its translation into Temporal's
// ScheduleSpec. The shape is checked by zod (400); what the shape cannot say (a minute of 61, a time
// zone nobody knows, a cron line with four fields) is checked here and refused as a 422 with its reason.

/** A schedule's field the way cron writes it: `30`, `1-5`, `MON-FRI`, `0,30`, `*\/15`, `*`. */
const CalendarField = z.union([z.string().min(1).max(200), z.number().int()]);

export const CalendarSpecBody = z
  .object({
    second: CalendarField.optional(),
    minute: CalendarField.optional(),
    hour: CalendarField.optional(),
    day_of_month: CalendarField.optional(),
    month: CalendarField.optional(),
    year: CalendarField.optional(),
    day_of_week: CalendarField.optional(),
    comment: z.string().max(200).optional(),
  })
  .strict()
  .openapi('ScheduleCalendar', {
    description:
      'Calendar times, each field as cron writes it (`30`, `1-5`, `MON-FRI`, `0,30`, `*/15`, `*`). Omitted: second and minute 0, hour 0, every day, month and year.',
    example: { hour: 8, minute: 30, day_of_week: 'MON-FRI' },
  });

const IntervalBody = z
  .object({
    every_s: z
      .number()
      .int()
      .min(1)
      .max(366 * 86_400),
    offset_s: z
      .number()
      .int()
      .min(0)
      .max(366 * 86_400)
      .optional(),
  })
  .strict();

export const ScheduleSpecBody = z
  .object({
    calendars: z.array(CalendarSpecBody).max(20).optional(),
    cron: z
      .array(z.string().min(1).max(200))
      .max(20)
      .optional()
      .openapi({ description: 'five-field cron lines (minute hour day-of-month month day-of-week)' }),
    intervals: z.array(IntervalBody).max(20).optional(),
    skip: z.array(CalendarSpecBody).max(50).optional().openapi({ description: 'calendar times not to fire at' }),
    start_at: z.iso.datetime({ offset: true }).optional(),
    end_at: z.iso.datetime({ offset: true }).optional(),
    jitter_s: z.number().int().min(0).max(86_400).optional(),
  })
  .strict()
  .openapi('ScheduleSpec', { description: 'When it fires: calendars, cron lines or intervals (at least one).' });

const Ticker = z
  .string()
  .regex(/^[A-Za-z0-9.^=-]{1,15}$/, 'a ticker symbol such as AAPL or BRK.B')
  .transform((s) => s.toUpperCase());

export const DailyReportsAction = z
  .object({
    kind: z.literal('daily_reports'),
    watchlist: z
      .array(z.object({ ticker: Ticker, sector: z.string().min(1).max(100) }).strict())
      .min(1)
      .max(50),
    pipeline: z.enum(PIPELINES).default('comprehensive'),
    llm: z.string().min(1).max(100).default('deterministic'),
    analysts: z.array(z.enum(ANALYSTS)).min(1).max(ANALYSTS.length).optional(),
    debate_rounds: z.number().int().min(1).max(5).default(1),
    risk_rounds: z.number().int().min(1).max(3).default(1),
    skip_closed_days: z.boolean().default(true),
    callback_url: z.string().min(1).max(4096).optional().openapi({
      description: 'each analysis job of every run POSTs its end here, signed (see completion webhooks)',
    }),
  })
  .strict();

export const SimulationCatchUpAction = z
  .object({
    kind: z.literal('simulation_catch_up'),
    models: z.array(z.string().min(1).max(100)).min(1).max(50).optional(),
    skip_closed_days: z.boolean().default(true),
    callback_url: z.string().min(1).max(4096).optional().openapi({
      description: 'each run’s simulation job POSTs its end here, signed (see completion webhooks)',
    }),
  })
  .strict();

export const ScheduleAction = z
  .discriminatedUnion('kind', [DailyReportsAction, SimulationCatchUpAction])
  .openapi('ScheduleAction', {
    description:
      '`daily_reports`: an analysis per watchlist ticker (a batch of child workflows), a report per sector and a digest; `simulation_catch_up`: what POST /simulate/trigger with no dates does. Both skip days the NYSE is closed unless `skip_closed_days` is false.',
  });

export const OVERLAP_POLICIES = [
  'skip',
  'buffer_one',
  'buffer_all',
  'cancel_other',
  'terminate_other',
  'allow_all',
] as const;
export const OverlapPolicy = z.enum(OVERLAP_POLICIES);
export type OverlapPolicy = z.infer<typeof OverlapPolicy>;

export const ScheduleIdString = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, `.`, `_` and `-`, at most 100');

export const CreateScheduleBody = z
  .object({
    schedule_id: ScheduleIdString,
    description: z.string().max(500).optional(),
    spec: ScheduleSpecBody,
    time_zone: z.string().min(1).max(100).default('America/New_York'),
    action: ScheduleAction,
    overlap_policy: OverlapPolicy.default('skip'),
    catchup_window_s: z
      .number()
      .int()
      .min(10)
      .max(366 * 86_400)
      .default(3600),
    paused: z.boolean().default(false),
    note: z.string().max(500).optional(),
  })
  .strict()
  .openapi('CreateSchedule');
export type CreateScheduleRequest = z.infer<typeof CreateScheduleBody>;
export type CreateScheduleInput = z.input<typeof CreateScheduleBody>;

/** A request whose shape is right but whose meaning is not (422 `invalid_schedule`). */
export class InvalidScheduleError extends Error {
  override name = 'InvalidScheduleError';
}

/** Whether the runtime (and Temporal, which uses the same IANA database) knows the zone. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FULL_MONTHS: Month[] = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];
const FULL_DAYS: DayOfWeek[] = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

type FieldName = 'second' | 'minute' | 'hour' | 'day_of_month' | 'month' | 'year' | 'day_of_week';
const BOUNDS: Record<FieldName, { min: number; max: number; names?: string[] }> = {
  second: { min: 0, max: 59 },
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  day_of_month: { min: 1, max: 31 },
  month: { min: 1, max: 12, names: MONTH_NAMES },
  year: { min: 1970, max: 2200 },
  // 7 is Sunday too, as in cron.
  day_of_week: { min: 0, max: 7, names: DAY_NAMES },
};

interface NumRange {
  start: number;
  end: number;
  step: number;
}

/** One cron-style field as numeric ranges, or '*'; throws InvalidScheduleError with the reason. */
export function parseCalendarField(field: FieldName, raw: string | number, where: string): NumRange[] | '*' {
  const b = BOUNDS[field];
  const text = String(raw).trim().toUpperCase();
  if (text === '*') return '*';
  const value = (token: string): number => {
    const named = b.names?.findIndex((n) => token === n || (token.length > 3 && n === token.slice(0, 3)));
    if (named !== undefined && named >= 0 && Number.isNaN(Number(token))) {
      return field === 'month' ? named + 1 : named;
    }
    if (!/^\d{1,4}$/.test(token)) {
      throw new InvalidScheduleError(
        `${where}.${field}: '${token}' is not a number${b.names ? ` or a name (${b.names.join(', ')})` : ''}`,
      );
    }
    const n = Number(token);
    if (n < b.min || n > b.max) {
      throw new InvalidScheduleError(`${where}.${field}: ${n} is outside ${b.min}-${b.max}`);
    }
    return n;
  };
  return text.split(',').map((part) => {
    const m = /^([^/-]+)(?:-([^/]+))?(?:\/(\d+))?$/.exec(part.trim());
    if (!m) throw new InvalidScheduleError(`${where}.${field}: cannot read '${part}' (use 5, 1-5, 1-5/2, */15 or *)`);
    const [, first, last, stepText] = m as unknown as [string, string, string | undefined, string | undefined];
    const step = stepText ? Number(stepText) : 1;
    if (step < 1) throw new InvalidScheduleError(`${where}.${field}: a step must be 1 or more`);
    if (first === '*') {
      if (last) throw new InvalidScheduleError(`${where}.${field}: cannot read '${part}'`);
      return {
        start: b.min === 0 && field === 'day_of_week' ? 0 : b.min,
        end: field === 'day_of_week' ? 6 : b.max,
        step,
      };
    }
    const start = value(first);
    const end = last === undefined ? (stepText ? b.max : start) : value(last);
    if (end < start) throw new InvalidScheduleError(`${where}.${field}: range ${part} ends before it starts`);
    return { start, end, step };
  });
}

function toLoose<T>(ranges: NumRange[] | '*', map: (n: number) => T): LooseRange<T>[] | '*' {
  if (ranges === '*') return '*';
  return ranges.map((r) => ({ start: map(r.start), end: map(r.end), step: r.step }));
}

/** Sunday as 7 (cron's alias) is split off, since Temporal's day names stop at Saturday. */
function daysOfWeek(ranges: NumRange[] | '*'): LooseRange<DayOfWeek>[] | '*' {
  if (ranges === '*') return '*';
  const out: NumRange[] = [];
  for (const r of ranges) {
    if (r.end === 7) {
      if (r.start <= 6) out.push({ start: r.start, end: 6, step: r.step });
      if ((7 - r.start) % r.step === 0) out.push({ start: 0, end: 0, step: 1 });
    } else out.push(r);
  }
  return toLoose(out, (n) => FULL_DAYS[n]!);
}

/** Our calendar (cron-style fields) as Temporal's CalendarSpec. Omitted time fields are 0, as Temporal's are. */
export function toCalendarSpec(body: z.infer<typeof CalendarSpecBody>, where: string): CalendarSpec {
  const field = (name: FieldName) => {
    const raw = body[name];
    return raw === undefined ? undefined : parseCalendarField(name, raw, where);
  };
  const spec: CalendarSpec = {};
  const num = (r: NumRange[] | '*' | undefined) => (r === undefined ? undefined : toLoose(r, (n) => n));
  const second = num(field('second'));
  const minute = num(field('minute'));
  const hour = num(field('hour'));
  const dayOfMonth = num(field('day_of_month'));
  const year = num(field('year'));
  const month = field('month');
  const dayOfWeek = field('day_of_week');
  if (second !== undefined) spec.second = second;
  if (minute !== undefined) spec.minute = minute;
  if (hour !== undefined) spec.hour = hour;
  if (dayOfMonth !== undefined) spec.dayOfMonth = dayOfMonth;
  if (year !== undefined) spec.year = year;
  if (month !== undefined) spec.month = toLoose(month, (n) => FULL_MONTHS[n - 1]!);
  if (dayOfWeek !== undefined) spec.dayOfWeek = daysOfWeek(dayOfWeek);
  if (body.comment) spec.comment = body.comment;
  return spec;
}

/** A five-field cron line as a calendar (the same fields, the same checks): `30 8 * * MON-FRI`. */
export function cronToCalendar(line: string, where: string): CalendarSpec {
  const fields = line.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new InvalidScheduleError(
      `${where}: '${line}' has ${fields.length} fields; a cron line has 5 (minute hour day-of-month month day-of-week)`,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  return toCalendarSpec(
    { second: '0', minute, hour, day_of_month: dayOfMonth, month, day_of_week: dayOfWeek, comment: line },
    where,
  );
}

/** The request's spec and time zone as Temporal's ScheduleSpec, or an InvalidScheduleError saying what is wrong. */
export function toScheduleSpec(body: z.infer<typeof ScheduleSpecBody>, timeZone: string): ScheduleSpec {
  if (!isTimeZone(timeZone)) {
    throw new InvalidScheduleError(`time_zone: '${timeZone}' is not an IANA time zone (e.g. America/New_York, UTC)`);
  }
  const calendars = [
    ...(body.calendars ?? []).map((c, i) => toCalendarSpec(c, `spec.calendars.${i}`)),
    ...(body.cron ?? []).map((line, i) => cronToCalendar(line, `spec.cron.${i}`)),
  ];
  const intervals = (body.intervals ?? []).map((iv, i) => {
    if (iv.offset_s !== undefined && iv.offset_s >= iv.every_s) {
      throw new InvalidScheduleError(`spec.intervals.${i}: offset_s must be less than every_s`);
    }
    return { every: iv.every_s * 1000, ...(iv.offset_s ? { offset: iv.offset_s * 1000 } : {}) };
  });
  if (calendars.length === 0 && intervals.length === 0) {
    throw new InvalidScheduleError('spec: name at least one of calendars, cron or intervals');
  }
  const skip = (body.skip ?? []).map((c, i) => toCalendarSpec(c, `spec.skip.${i}`));
  const startAt = body.start_at ? new Date(body.start_at) : undefined;
  const endAt = body.end_at ? new Date(body.end_at) : undefined;
  if (startAt && endAt && endAt <= startAt) throw new InvalidScheduleError('spec: end_at must be after start_at');
  return {
    ...(calendars.length ? { calendars } : {}),
    ...(intervals.length ? { intervals } : {}),
    ...(skip.length ? { skip } : {}),
    ...(startAt ? { startAt } : {}),
    ...(endAt ? { endAt } : {}),
    ...(body.jitter_s ? { jitter: body.jitter_s * 1000 } : {}),
    timezone: timeZone,
  };
}

/** A backfill's bound: a date (its start in the schedule's zone) or an instant with an offset. */
export const BackfillBound = z.union([
  z.string().max(10).refine(isIsoDate, { message: 'must be a real date as YYYY-MM-DD' }),
  z.iso.datetime({ offset: true }),
]);
