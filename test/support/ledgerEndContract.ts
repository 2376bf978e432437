// Where a model's ledger ends (`TradingDayReader.lastDate`), the one reader the planner and /results ask:
// the same answers from the in-memory store (unit layer) and MongoDB's (e2e, on FerretDB).
import { expect, it } from 'vitest';
import type { TradingDayDoc } from '../../storage/types.js';
import { NO_TOKENS } from '../../trading/agents/types.js';

export interface LedgerDays {
  insertMany(docs: readonly TradingDayDoc[]): Promise<number>;
  lastDate(owner: string, model: string): Promise<string | null>;
}

export function ledgerDay(owner: string, model: string, date: string): TradingDayDoc {
  const position = { cash: 100, holdings: {}, portfolioValue: 100 };
  return {
    _id: `${owner}|${model}|${date}`,
    owner,
    model,
    date,
    jobId: 'job-contract',
    startingPosition: position,
    endingPosition: position,
    trades: [],
    dailyPnl: { profit: 0, returnPct: 0 },
    summary: '',
    reasoning: [],
    finished: true,
    toolUsage: {},
    tokenUsage: NO_TOKENS,
    durationMs: 1,
    createdAt: new Date(),
  };
}

/** The contract; `fresh` gives an empty store and a prefix that keeps this run's owners apart. */
export function ledgerEndContract(fresh: () => Promise<{ days: LedgerDays; prefix: string }>) {
  it('a model with no day has no end; the end is its latest day, across months and years, by owner and model', async () => {
    const { days, prefix } = await fresh();
    const ann = `${prefix}ann`;
    expect(await days.lastDate(ann, 'alpha')).toBeNull();
    await days.insertMany(['2024-12-30', '2024-12-31'].map((d) => ledgerDay(ann, 'alpha', d)));
    await days.insertMany(['2025-01-02', '2025-02-03'].map((d) => ledgerDay(ann, 'alpha', d)));
    await days.insertMany([ledgerDay(ann, 'beta', '2025-03-03'), ledgerDay(`${prefix}bob`, 'alpha', '2025-04-01')]);
    expect(await days.lastDate(ann, 'alpha')).toBe('2025-02-03');
    expect(await days.lastDate(ann, 'beta')).toBe('2025-03-03');
    expect(await days.lastDate(`${prefix}bob`, 'alpha')).toBe('2025-04-01');
    // A day written again (a retried commit) changes nothing.
    expect(await days.insertMany([ledgerDay(ann, 'alpha', '2025-01-02')])).toBe(0);
    expect(await days.lastDate(ann, 'alpha')).toBe('2025-02-03');
  });
}
