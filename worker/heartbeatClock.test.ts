import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
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
