import type { CreateScheduleInput } from '../server/schedules/spec.js';

/**
 * The Temporal Schedules the embedded default (`npm start`) creates, paused, when they do not exist yet
 * (an existing one is left as it is: edits made in the Web UI or through `/schedules` survive restarts).
 * Each is a `POST /schedules` body; `npm start` sends them to the API, so they pass the same checks.
 * Resume one with `curl -X POST localhost:8080/schedules/<schedule_id>/resume`.
 */
export const DEFAULT_SCHEDULES: CreateScheduleInput[] = [
  {
    schedule_id: 'daily-premarket-reports',
    description:
      'Pre-market reports (api-runner, seed 1): 08:30 New York, Monday to Friday, NYSE holidays and special closures skipped; an analysis per watchlist company, a report per sector and a digest (markdown + PDF) of the decisions',
    spec: { calendars: [{ hour: 8, minute: 30, day_of_week: 'MON-FRI', comment: '08:30 ET, weekdays' }] },
    time_zone: 'America/New_York',
    action: {
      kind: 'daily_reports',
      watchlist: [
        { ticker: 'AAPL', sector: 'Technology' },
        { ticker: 'MSFT', sector: 'Technology' },
        { ticker: 'NVDA', sector: 'Technology' },
        { ticker: 'GOOGL', sector: 'Communication Services' },
        { ticker: 'META', sector: 'Communication Services' },
        { ticker: 'AMZN', sector: 'Consumer Discretionary' },
        { ticker: 'TSLA', sector: 'Consumer Discretionary' },
      ],
      pipeline: 'comprehensive',
      llm: 'deterministic',
    },
    overlap_policy: 'skip',
    // Later than an hour is no longer pre-market: a report missed by an outage is not run at noon.
    catchup_window_s: 3600,
    paused: true,
    note: 'created paused by npm start: resume with POST /schedules/daily-premarket-reports/resume',
  },
  {
    schedule_id: 'daily-simulation-catch-up',
    description:
      'Simulation catch-up after the close: 17:00 New York, Monday to Friday, NYSE holidays skipped; what POST /simulate/trigger with no dates does (the built-in alternative to a Windmill or cron schedule)',
    spec: { calendars: [{ hour: 17, minute: 0, day_of_week: 'MON-FRI', comment: '17:00 ET, weekdays' }] },
    time_zone: 'America/New_York',
    action: { kind: 'simulation_catch_up' },
    overlap_policy: 'skip',
    catchup_window_s: 6 * 3600,
    paused: true,
    note: 'created paused by npm start: resume with POST /schedules/daily-simulation-catch-up/resume',
  },
];

/**
 * Creates the default schedules through the API (`POST /schedules`): 201 made, 409 there already (left
 * as is). Returns what happened to each, for the start banner.
 */
export async function ensureDefaultSchedules(
  apiUrl: string,
  schedules: readonly CreateScheduleInput[] = DEFAULT_SCHEDULES,
  /** An admin's API key (authentication is on by default). */
  apiKey?: string,
): Promise<Array<{ scheduleId: string; outcome: 'created' | 'exists' | string }>> {
  const out = [];
  for (const s of schedules) {
    const res = await fetch(`${apiUrl.replace(/\/$/, '')}/schedules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify(s),
      signal: AbortSignal.timeout(30_000),
    });
    const outcome =
      res.status === 201 ? 'created' : res.status === 409 ? 'exists' : `${res.status} ${await res.text()}`;
    out.push({ scheduleId: s.schedule_id, outcome });
  }
  return out;
}
