import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors.js';
import { AdmissionGate } from './jobCap.js';

// The cap under concurrency: starts fired together, each counting a store whose answer comes late and
// whose records appear only when a start has written them, as on the real database.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fire(o: { limit: number; requests: number; alreadyActive: number; seed: number }) {
  const gate = new AdmissionGate();
  let records = o.alreadyActive;
  let x = o.seed;
  const jitter = () => {
    x = (x * 48271) % 2147483647;
    return x % 7;
  };
  const outcomes = await Promise.all(
    Array.from({ length: o.requests }, async (_, i) => {
      await sleep(jitter());
      try {
        await gate.admit(
          'ann',
          1,
          o.limit,
          async () => {
            const seen = records;
            await sleep(jitter());
            return seen;
          },
          async () => {
            await sleep(jitter());
            records += 1;
            return i;
          },
        );
        return 'started';
      } catch (err) {
        if (err instanceof ApiError && err.code === 'too_many_active_jobs') return 'refused';
        throw err;
      }
    }),
  );
  return { started: outcomes.filter((s) => s === 'started').length, records };
}

describe('the per-user job cap under concurrent starts', () => {
  it('30 starts fired together never pass a cap of 5 (a count then a start let 30 through)', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { started, records } = await fire({ limit: 5, requests: 30, alreadyActive: 0, seed });
      expect(records, `seed ${seed}`).toBeLessThanOrEqual(5);
      // And a burst is not all refused: the cap is filled.
      expect(started, `seed ${seed}`).toBe(5);
    }
  });

  it('with room for one, one of many gets it at most', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { started, records } = await fire({ limit: 3, requests: 10, alreadyActive: 2, seed });
      expect(records, `seed ${seed}`).toBe(3);
      expect(started, `seed ${seed}`).toBe(1);
    }
  });

  it('one after another, every start up to the cap passes; a failed start frees its place', async () => {
    const gate = new AdmissionGate();
    let records = 0;
    const start = () =>
      gate.admit(
        'ann',
        1,
        2,
        async () => records,
        async () => {
          records += 1;
        },
      );
    await start();
    await expect(
      gate.admit(
        'ann',
        1,
        2,
        async () => records,
        async () => Promise.reject(new Error('Temporal down')),
      ),
    ).rejects.toThrow('Temporal down');
    await start();
    await expect(start()).rejects.toMatchObject({ code: 'too_many_active_jobs' });
    // Other owners have their own cap.
    await expect(
      gate.admit(
        'bob',
        1,
        2,
        async () => 0,
        async () => 'ok',
      ),
    ).resolves.toBe('ok');
  });
});
