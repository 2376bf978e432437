import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { checkpoint } from '../activities/checkpoint.js';
import { heartbeatClock } from './heartbeatClock.js';

describe('heartbeatClock', () => {
  it('heartbeats while an activity with a heartbeat timeout runs, and stops when it ends', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 }, { interceptors: [heartbeatClock] });
    let beats = 0;
    env.on('heartbeat', () => {
      beats += 1;
    });
    const work = async () => {
      await sleep(1_000);
      return 'done';
    };
    expect(await env.run(work)).toBe('done');
    const atEnd = beats;
    expect(atEnd).toBeGreaterThanOrEqual(3);
    await sleep(400);
    expect(beats).toBe(atEnd);
  });

  it("repeats the activity's last checkpoint, which the server would otherwise replace with nothing", async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 150 }, { interceptors: [heartbeatClock] });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => {
      beats.push(d);
    });
    await env.run(async () => {
      await sleep(120);
      checkpoint(Context.current(), { done: ['a'] });
      await sleep(300);
    });
    const after = beats.slice(beats.findIndex((d) => d !== undefined));
    // The checkpoint itself, then at least two clock beats, every one of them carrying it.
    expect(after.length).toBeGreaterThanOrEqual(3);
    for (const d of after) expect(d).toEqual({ done: ['a'] });
  });

  it("keeps a retried activity's previous checkpoint until it makes its own", async () => {
    const env = new MockActivityEnvironment(
      { heartbeatTimeoutMs: 150, heartbeatDetails: { done: ['x'] } },
      { interceptors: [heartbeatClock] },
    );
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => {
      beats.push(d);
    });
    // Beats every 100 ms: four or so in 450 ms, two at the least on a busy machine.
    await env.run(async () => sleep(450));
    expect(beats.length).toBeGreaterThanOrEqual(2);
    for (const d of beats) expect(d).toEqual({ done: ['x'] });
  });

  it('leaves an activity without a heartbeat timeout alone', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: undefined }, { interceptors: [heartbeatClock] });
    let beats = 0;
    env.on('heartbeat', () => {
      beats += 1;
    });
    await env.run(async () => sleep(300));
    expect(beats).toBe(0);
  });

  it('passes failures through and still stops', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 150 }, { interceptors: [heartbeatClock] });
    let beats = 0;
    env.on('heartbeat', () => {
      beats += 1;
    });
    const failing = async () => {
      await sleep(200);
      throw new Error('boom');
    };
    await expect(env.run(failing)).rejects.toThrow('boom');
    const atEnd = beats;
    await sleep(300);
    expect(beats).toBe(atEnd);
  });
});
