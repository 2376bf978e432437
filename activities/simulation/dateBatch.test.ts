import { describe, expect, it } from 'vitest';
import { type ModelOutcome, runDateBatch } from './dateBatch.js';

class Final extends Error {}

function options(over: Partial<Parameters<typeof runDateBatch<string>>[0]> = {}) {
  const reported: Array<[string, ModelOutcome<string>]> = [];
  const calls: string[] = [];
  const controller = new AbortController();
  const o = {
    models: ['a', 'b', 'c'],
    done: {},
    run: async (model: string, attempt: number) => {
      calls.push(`${model}#${attempt}`);
      return `${model}-day`;
    },
    maxAttempts: 3,
    backoffMs: () => 1,
    isFinal: (err: unknown) => err instanceof Final,
    onDone: (model: string, outcome: ModelOutcome<string>) => {
      reported.push([model, outcome]);
    },
    sleep: (ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (controller.signal.aborted) return reject(new Error('aborted'));
        const t = setTimeout(resolve, ms);
        controller.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('aborted'));
        });
      }),
    signal: controller.signal,
    concurrency: 4,
    describe: (err: unknown) => (err as Error).message,
    ...over,
  };
  return { o, reported, calls, controller };
}

describe('runDateBatch', () => {
  it('runs every model once and reports each outcome the moment it is known', async () => {
    const { o, reported, calls } = options();
    const r = await runDateBatch(o);
    expect(r.cancelled).toEqual([]);
    expect(Object.keys(r.outcomes).sort()).toEqual(['a', 'b', 'c']);
    expect(r.outcomes.a).toEqual({ ok: true, value: 'a-day' });
    expect(calls.sort()).toEqual(['a#1', 'b#1', 'c#1']);
    expect(reported.map(([m]) => m).sort()).toEqual(['a', 'b', 'c']);
  });

  it('does not run again what an earlier attempt of the date reported', async () => {
    const { o, calls } = options({ done: { a: { ok: true, value: 'kept' }, b: { ok: false, error: 'gone' } } });
    const r = await runDateBatch(o);
    expect(calls).toEqual(['c#1']);
    expect(r.outcomes).toEqual({
      a: { ok: true, value: 'kept' },
      b: { ok: false, error: 'gone' },
      c: { ok: true, value: 'c-day' },
    });
  });

  it("retries a model's errors against its own attempts, and its failure for good leaves the others theirs", async () => {
    const { o, calls } = options({
      run: async (model, attempt) => {
        calls.push(`${model}#${attempt}`);
        if (model === 'a' && attempt < 3) throw new Error('flaky');
        if (model === 'b') throw new Error('always down');
        if (model === 'c') throw new Final('no such model');
        return `${model}-day`;
      },
    });
    const r = await runDateBatch(o);
    expect(r.outcomes.a).toEqual({ ok: true, value: 'a-day' });
    expect(r.outcomes.b).toEqual({ ok: false, error: 'always down' });
    expect(r.outcomes.c).toEqual({ ok: false, error: 'no such model' });
    expect(calls.filter((c) => c.startsWith('b'))).toEqual(['b#1', 'b#2', 'b#3']);
    expect(calls.filter((c) => c.startsWith('c'))).toEqual(['c#1']);
  });

  it('a cancellation keeps what finished and leaves the rest to be run, never failed', async () => {
    const { o, controller } = options({
      run: async (model) => {
        if (model === 'a') return 'a-day';
        if (model === 'b') {
          controller.abort();
          throw new Error('cancelled mid-day');
        }
        return new Promise<string>(() => undefined);
      },
      backoffMs: () => 60_000,
      concurrency: 2,
      models: ['a', 'b', 'c'],
    });
    const r = await runDateBatch(o);
    expect(r.outcomes).toEqual({ a: { ok: true, value: 'a-day' } });
    expect(r.cancelled.sort()).toEqual(['b', 'c']);
  });

  it('holds at most `concurrency` models at once', async () => {
    let running = 0;
    let peak = 0;
    const { o } = options({
      models: ['a', 'b', 'c', 'd', 'e'],
      concurrency: 2,
      run: async (model) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return model;
      },
    });
    await runDateBatch(o);
    expect(peak).toBe(2);
  });

  it('treats a model named __proto__ as any other', async () => {
    const { o } = options({ models: ['__proto__', 'a'] });
    const r = await runDateBatch(o);
    expect(Object.hasOwn(r.outcomes, '__proto__')).toBe(true);
  });
});
