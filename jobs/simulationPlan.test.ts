import { describe, expect, it } from 'vitest';
import { firstDateOf, firstIndexOf, modelDaysOf, modelsOn, spanOf, totalModelDays } from './simulationPlan.js';

// A plan where `late` catches up from the first date and `current` starts on the third.
const plan = { dates: ['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06'], modelStart: { late: 0, current: 2 } };
const models = ['current', 'late'];

describe('the plan of a simulation', () => {
  it('says where each model starts; a model not named starts at the first date, whatever its name', () => {
    expect(firstIndexOf(plan, 'current')).toBe(2);
    expect(firstDateOf(plan, 'current')).toBe('2025-03-05');
    expect(firstIndexOf(plan, 'other')).toBe(0);
    expect(firstIndexOf(plan, 'toString')).toBe(0);
    expect(firstIndexOf(plan, '__proto__')).toBe(0);
    expect(firstDateOf({ dates: [], modelStart: {} }, 'late')).toBeUndefined();
  });

  it('says which models run on each date, in the order given', () => {
    expect(modelsOn(plan, models, 0)).toEqual(['late']);
    expect(modelsOn(plan, models, 2)).toEqual(['current', 'late']);
  });

  it('counts and lists the model-days, by date then model, from any date on', () => {
    expect(totalModelDays(plan, models)).toBe(6);
    const all = modelDaysOf(plan, models);
    expect(all).toHaveLength(totalModelDays(plan, models));
    expect(all.slice(0, 3)).toEqual([
      { model: 'late', date: '2025-03-03' },
      { model: 'late', date: '2025-03-04' },
      { model: 'current', date: '2025-03-05' },
    ]);
    expect(modelDaysOf(plan, models, 3)).toEqual([
      { model: 'current', date: '2025-03-06' },
      { model: 'late', date: '2025-03-06' },
    ]);
    expect(modelDaysOf(plan, models, 9)).toEqual([]);
  });

  it('spans from the earliest first date of its models to the last date', () => {
    expect(spanOf(plan, models)).toEqual({ start: '2025-03-03', end: '2025-03-06' });
    expect(spanOf(plan, ['current'])).toEqual({ start: '2025-03-05', end: '2025-03-06' });
    expect(spanOf({ dates: [], modelStart: {} }, models)).toBeUndefined();
  });
});
