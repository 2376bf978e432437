// GET /jobs/{id}/logs pages a log whose numbers are handed out before their events are written.
import { describe, expect, it } from 'vitest';
import { jobEvents } from '../../jobs/events.js';
import { WRITER_GONE_AFTER_MS } from '../../storage/jobEvents.js';
import { analysisJob } from '../../test/support/jobStoreContract.js';
import { unitApp } from '../../test/support/unitApp.js';

const line = (message: string) => jobEvents.log({ type: 'LOG', message });

async function jobWithLog() {
  const u = unitApp();
  const job = analysisJob();
  await u.jobs.insertIfAbsent(job);
  const logs = async (after = 0) => (await u.app.request(`/jobs/${job._id}/logs?after=${after}&limit=50`)).json();
  return { ...u, job, logs };
}

describe('GET /jobs/{id}/logs', () => {
  it('ends a page at a number not yet written, and gives it once it is', async () => {
    const { events, job, logs } = await jobWithLog();
    await events.append(job._id, line('one'));
    const pending = events.reserve(job._id);
    await events.append(job._id, line('three'));

    const first = await logs();
    expect(first.events.map((e: { id: number }) => e.id)).toEqual([1]);
    expect(first.next_after).toBe(1);
    expect(first.last_event_id).toBe(3);

    events.fill(job._id, pending, line('two'));
    const next = await logs(first.next_after);
    expect(next.events.map((e: { message: string }) => e.message)).toEqual(['two', 'three']);
  });

  it('steps over a number whose writer is gone once the events after it are old', async () => {
    const { events, job, logs } = await jobWithLog();
    await events.append(job._id, line('one'));
    events.reserve(job._id);
    const late = events.reserve(job._id);
    events.fill(job._id, late, line('three'), new Date(Date.now() - WRITER_GONE_AFTER_MS - 1_000));
    const page = await logs();
    expect(page.events.map((e: { id: number }) => e.id)).toEqual([1, 3]);
    expect(page.next_after).toBe(3);
  });
});
