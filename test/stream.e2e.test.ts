import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';
import { readSse, type SseEvent } from './sseClient.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    models: {
      models: [
        { id: 'stream-a', strategy: 'momentum', params: { lookback: 5, decision_delay_ms: 150 } },
        { id: 'stream-b', strategy: 'buy-and-hold', params: { decision_delay_ms: 150 } },
      ],
    },
  });
});
afterAll(async () => h?.stop());

const trigger = async (start: string, end: string) => {
  const res = await h.api('/simulate/trigger', {
    method: 'POST',
    json: { start_date: start, end_date: end, models: ['stream-a', 'stream-b'] },
  });
  expect(res.status).toBe(202);
  return res.body.job_id as string;
};
const ids = (events: SseEvent[]) => events.filter((e) => e.id).map((e) => Number(e.id));

describe('live job stream (SSE) over real HTTP', () => {
  let fullRun: SseEvent[] = [];
  let jobId = '';

  it('streams a job from start to finish with typed, numbered events', async () => {
    jobId = await trigger('2025-04-01', '2025-04-08');
    const { events, status, closedByServer } = await readSse(`${h.baseUrl}/jobs/${jobId}/logs/stream`, {
      key: h.adminKey,
    });
    expect(status).toBe(200);
    expect(events[0]!.event).toBe('connection');
    expect(events[0]!.data.job_id).toBe(jobId);
    const numbered = events.slice(1);
    expect(ids(numbered)).toEqual(numbered.map((_, i) => i + 1));
    expect(numbered.filter((e) => e.event === 'log' && e.data.model && e.data.type === 'LOG')).toHaveLength(2 * 6);
    expect(numbered.some((e) => e.event === 'status' && e.data.status === 'running')).toBe(true);
    const last = numbered.at(-1)!;
    expect(last.event).toBe('completed');
    expect(last.data).toMatchObject({ status: 'completed', completed: 12 });
    expect(closedByServer).toBe(true);
    fullRun = numbered;
  });

  it('gives a reconnecting client exactly the events it missed, also after the job ended', async () => {
    const resumed = await readSse(`${h.baseUrl}/jobs/${jobId}/logs/stream`, { lastEventId: '5', key: h.adminKey });
    expect(resumed.events[0]!.data.resumed_after).toBe(5);
    expect(ids(resumed.events.slice(1))).toEqual(ids(fullRun).slice(5));
    const snapshot = await h.api(`/jobs/${jobId}/logs?after=0&limit=500`);
    expect(snapshot.body.events.map((e: any) => e.id)).toEqual(ids(fullRun));
  });

  it('reconnects mid-stream without gaps or duplicates', async () => {
    const id = await trigger('2025-04-09', '2025-04-17');
    const first = await readSse(`${h.baseUrl}/jobs/${id}/logs/stream`, {
      stopAfter: (evs) => evs.length >= 6,
      key: h.adminKey,
    });
    const lastSeen = first.events.at(-1)!.id!;
    const rest = await readSse(`${h.baseUrl}/jobs/${id}/logs/stream`, { lastEventId: lastSeen, key: h.adminKey });
    const all = [...ids(first.events), ...ids(rest.events)];
    expect(all).toEqual(all.map((_, i) => i + 1));
    expect(rest.events.at(-1)!.event).toBe('completed');
    expect(new Set(all).size).toBe(all.length);
  });

  it('serves the same stream from another server instance (events live in MongoDB)', async () => {
    const other = serve({ fetch: h.anotherApp().fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => other.once('listening', r));
    const { port } = other.address() as { port: number };
    try {
      const elsewhere = await readSse(`http://127.0.0.1:${port}/jobs/${jobId}/logs/stream`, { key: h.adminKey });
      expect(ids(elsewhere.events)).toEqual(ids(fullRun));
    } finally {
      other.close();
    }
  });

  it('rejects a malformed Last-Event-ID and an unknown job', async () => {
    const bad = await fetch(`${h.baseUrl}/jobs/${jobId}/logs/stream`, {
      headers: { 'last-event-id': 'abc', ...h.authHeaders },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/Last-Event-ID must be an event id/);
    expect((await h.api('/jobs/sim-nope/logs/stream')).status).toBe(404);
  });
});
