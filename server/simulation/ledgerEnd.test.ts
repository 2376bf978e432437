import { describe, expect, it } from 'vitest';
import { ledgerDay } from '../../test/support/ledgerEndContract.js';
import { unitApp } from '../../test/support/unitApp.js';

// Where a model's ledger ends has one reader: the planner (what a trigger would run) and /results (the
// range it shows) ask it alike. While a job runs, its dates are committed day by day and the ledger head
// moves only at the job's end: here the days stand written past any head, as they do mid-run.

const DATES = ['2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06'];

describe("a model's ledger end, as the planner and /results see it", () => {
  it('agree while a job has committed days past the ledger head', async () => {
    const u = unitApp();
    const owner = (await (await u.app.request('/me')).json()).user_id;
    await u.tradingDays.insertMany(DATES.map((d) => ledgerDay(owner, 'buy-and-hold', d)));
    const results = await (await u.app.request('/results?model=buy-and-hold')).json();
    expect(results.end_date).toBe(DATES.at(-1));
    // Nothing left to run up to that day: the planner answers without taking a lock or starting a job.
    const trigger = await u.app.request('/simulate/trigger', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ end_date: DATES.at(-1), models: ['buy-and-hold'] }),
    });
    expect(trigger.status).toBe(200);
    expect(await trigger.json()).toMatchObject({ status: 'current', last_simulation_date: results.end_date });
  });
});
