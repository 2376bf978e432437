import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEDULES } from '../../temporal-config/schedules.js';
import { unitApp } from '../../test/support/unitApp.js';
import {
  CreateScheduleBody,
  cronToCalendar,
  InvalidScheduleError,
  isTimeZone,
  toCalendarSpec,
  toScheduleSpec,
} from './spec.js';

describe('schedule specs', () => {
  it('turns cron-style calendar fields into Temporal ranges, names included', () => {
    expect(toCalendarSpec({ hour: 8, minute: '30', day_of_week: 'MON-FRI' }, 'c')).toEqual({
      hour: [{ start: 8, end: 8, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
      dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }],
    });
    expect(toCalendarSpec({ minute: '*/15', month: 'jan,jul-sep', day_of_month: '1-31/2' }, 'c')).toEqual({
      minute: [{ start: 0, end: 59, step: 15 }],
      month: [
        { start: 'JANUARY', end: 'JANUARY', step: 1 },
        { start: 'JULY', end: 'SEPTEMBER', step: 1 },
      ],
      dayOfMonth: [{ start: 1, end: 31, step: 2 }],
    });
    // Sunday as 7, as cron allows, becomes SUNDAY.
    expect(toCalendarSpec({ day_of_week: '6-7' }, 'c').dayOfWeek).toEqual([
      { start: 'SATURDAY', end: 'SATURDAY', step: 1 },
      { start: 'SUNDAY', end: 'SUNDAY', step: 1 },
    ]);
  });

  it('reads a five-field cron line as the same calendar', () => {
    expect(cronToCalendar('30 8 * * 1-5', 'cron')).toEqual({
      second: [{ start: 0, end: 0, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
      hour: [{ start: 8, end: 8, step: 1 }],
      dayOfMonth: '*',
      month: '*',
      dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }],
      comment: '30 8 * * 1-5',
    });
  });

  it.each([
    [{ calendars: [{ minute: 61 }] }, 'UTC', /spec\.calendars\.0\.minute: 61 is outside 0-59/],
    [{ calendars: [{ day_of_week: 'FUNDAY' }] }, 'UTC', /day_of_week: 'FUNDAY' is not a number or a name/],
    [{ calendars: [{ hour: '5-3' }] }, 'UTC', /ends before it starts/],
    [{ cron: ['30 8 * *'] }, 'UTC', /has 4 fields; a cron line has 5/],
    [{ cron: ['30 25 * * *'] }, 'UTC', /spec\.cron\.0\.hour: 25 is outside 0-23/],
    [{ intervals: [{ every_s: 60, offset_s: 60 }] }, 'UTC', /offset_s must be less than every_s/],
    [{}, 'UTC', /at least one of calendars, cron or intervals/],
    [{ calendars: [{ hour: 8 }] }, 'America/Gotham', /'America\/Gotham' is not an IANA time zone/],
    [
      { intervals: [{ every_s: 60 }], start_at: '2026-01-02T00:00:00Z', end_at: '2026-01-01T00:00:00Z' },
      'UTC',
      /end_at must be after start_at/,
    ],
  ])('refuses %j in %s with the reason', (spec, zone, reason) => {
    expect(() => toScheduleSpec(spec, zone)).toThrow(InvalidScheduleError);
    expect(() => toScheduleSpec(spec, zone)).toThrow(reason);
  });

  it('knows time zones', () => {
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
  });

  it('ships default schedules that pass the API’s own checks: 08:30 and 17:00 New York on weekdays, paused', () => {
    expect(DEFAULT_SCHEDULES.map((s) => s.schedule_id)).toEqual([
      'daily-premarket-reports',
      'daily-simulation-catch-up',
    ]);
    for (const s of DEFAULT_SCHEDULES) {
      const req = CreateScheduleBody.parse(s);
      expect(req.paused).toBe(true);
      expect(req.action.skip_closed_days).toBe(true);
      const spec = toScheduleSpec(req.spec, req.time_zone);
      expect(spec.timezone).toBe('America/New_York');
      expect(spec.calendars?.[0]?.dayOfWeek).toEqual([{ start: 'MONDAY', end: 'FRIDAY', step: 1 }]);
    }
    const [reports, catchUp] = DEFAULT_SCHEDULES;
    expect(reports!.spec.calendars![0]).toMatchObject({ hour: 8, minute: 30 });
    expect(catchUp!.spec.calendars![0]).toMatchObject({ hour: 17, minute: 0 });
  });
});

describe('POST /schedules refuses bad specs before reaching Temporal', () => {
  // unitApp's Temporal never answers: a request that reached it would be a 503 (after seconds), not these.
  const { app } = unitApp();
  const post = (body: unknown) =>
    app.request('/schedules', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const valid = {
    schedule_id: 'reports',
    spec: { cron: ['30 8 * * MON-FRI'] },
    action: { kind: 'daily_reports', watchlist: [{ ticker: 'AAPL', sector: 'Technology' }] },
  };

  it.each([
    ['a bad time zone', { ...valid, time_zone: 'Europe/Atlantis' }, 422, 'invalid_schedule', /Europe\/Atlantis/],
    ['a bad cron line', { ...valid, spec: { cron: ['99 8 * * *'] } }, 422, 'invalid_schedule', /minute: 99/],
    ['no times at all', { ...valid, spec: {} }, 422, 'invalid_schedule', /at least one/],
    ['an unknown spec field', { ...valid, spec: { every: '1h' } }, 400, 'bad_request', /every/],
    ['an unknown overlap policy', { ...valid, overlap_policy: 'sometimes' }, 400, 'bad_request', /overlap_policy/],
    ['a catch-up window under 10 s', { ...valid, catchup_window_s: 1 }, 400, 'bad_request', /catchup_window_s/],
    [
      'an empty watchlist',
      { ...valid, action: { kind: 'daily_reports', watchlist: [] } },
      400,
      'bad_request',
      /watchlist/,
    ],
    ['an unknown action', { ...valid, action: { kind: 'launch_rockets' } }, 400, 'bad_request', /action/],
    ['a bad schedule id', { ...valid, schedule_id: 'a b/c' }, 400, 'bad_request', /schedule_id/],
    [
      'a callback URL to a private address',
      {
        ...valid,
        action: { kind: 'simulation_catch_up', callback_url: 'http://169.254.169.254/latest/meta-data' },
      },
      422,
      'invalid_callback_url',
      /callback_url/,
    ],
    [
      'a ticker without market data',
      { ...valid, action: { kind: 'daily_reports', watchlist: [{ ticker: 'ZZZZ', sector: 'X' }] } },
      422,
      'unknown_ticker',
      /ZZZZ/,
    ],
    [
      'an unknown LLM',
      { ...valid, action: { kind: 'daily_reports', watchlist: [{ ticker: 'AAPL', sector: 'X' }], llm: 'gpt-9' } },
      422,
      'unknown_model',
      /gpt-9/,
    ],
    [
      'an unknown model to catch up',
      { ...valid, action: { kind: 'simulation_catch_up', models: ['nope'] } },
      422,
      'unknown_model',
      /nope/,
    ],
  ])('%s', async (_name, body, status, code, message) => {
    const res = await post(body);
    const json = (await res.json()) as { error: string; message: string };
    expect(res.status).toBe(status);
    expect(json.error).toBe(code);
    expect(json.message).toMatch(message);
  });
});

describe('the OpenAPI document', () => {
  it('lists every /schedules route', async () => {
    const { app } = unitApp();
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, object> };
    expect(
      Object.entries(doc.paths)
        .filter(([path]) => path.startsWith('/schedules'))
        .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))
        .sort(),
    ).toEqual([
      'DELETE /schedules/{scheduleId}',
      'GET /schedules',
      'GET /schedules/{scheduleId}',
      'GET /schedules/{scheduleId}/runs',
      'GET /schedules/{scheduleId}/runs/{workflowId}/digest',
      'POST /schedules',
      'POST /schedules/{scheduleId}/backfill',
      'POST /schedules/{scheduleId}/pause',
      'POST /schedules/{scheduleId}/resume',
      'POST /schedules/{scheduleId}/trigger',
    ]);
  });
});
