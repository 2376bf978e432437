import { describe, expect, it } from 'vitest';
import { planSimulation } from './planner.js';

const base = { maxTradingDays: 260, lastSimulated: {} };

describe('planSimulation', () => {
  it('plans every trading day of an explicit range for every model', () => {
    const p = planSimulation({ ...base, models: ['a', 'b'], start: '2025-03-03', end: '2025-03-07' });
    expect(p.dates).toEqual(['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06', '2025-03-07']);
    expect(p.modelStart).toEqual({ a: 0, b: 0 });
    expect(p.totalModelDays).toBe(10);
  });

  it('continues each model from the day after its last simulated day', () => {
    const p = planSimulation({
      ...base,
      models: ['a', 'b'],
      end: '2025-03-07',
      lastSimulated: { a: '2025-03-04', b: '2025-02-28' },
    });
    expect(p.dates[0]).toBe('2025-03-03');
    expect(p.modelStart).toEqual({ a: 2, b: 0 });
    expect(p.totalModelDays).toBe(3 + 5);
  });

  it('starts a model with no history at the end date (one day), as AI-Trader does', () => {
    const p = planSimulation({ ...base, models: ['new'], end: '2025-03-07' });
    expect(p.dates).toEqual(['2025-03-07']);
  });

  it('never reruns days a model already has, even inside an explicit range', () => {
    const p = planSimulation({
      ...base,
      models: ['a'],
      start: '2025-03-03',
      end: '2025-03-07',
      lastSimulated: { a: '2025-03-05' },
    });
    expect(p.dates).toEqual(['2025-03-06', '2025-03-07']);
  });

  it('reports models that are up to date', () => {
    const p = planSimulation({ ...base, models: ['a'], end: '2025-03-07', lastSimulated: { a: '2025-03-07' } });
    expect(p).toMatchObject({ totalModelDays: 0, upToDate: ['a'] });
  });

  it('rejects an end before the start, a range over the maximum, and a range with no trading day', () => {
    expect(() => planSimulation({ ...base, models: ['a'], start: '2025-03-07', end: '2025-03-03' })).toThrow(
      /before start_date/,
    );
    expect(() =>
      planSimulation({ ...base, maxTradingDays: 3, models: ['a'], start: '2025-03-03', end: '2025-03-07' }),
    ).toThrow(/5 trading days; the maximum is 3/);
    expect(() => planSimulation({ ...base, models: ['a'], start: '2025-03-08', end: '2025-03-09' })).toThrow(
      /no NYSE trading day/,
    );
  });
});
