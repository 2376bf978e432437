import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ledgerEndContract } from '../test/support/ledgerEndContract.js';
import { connectDatabase, type Database } from './db.js';
import { TradingDays, tradingDayId } from './tradingDays.js';
import type { TradingDayDoc } from './types.js';

let db: Database;
beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), `tdays_${process.pid}_${Date.now()}`);
});
afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

const day = (model: string, date: string, value: number, jobId = 'job-1'): TradingDayDoc => ({
  _id: tradingDayId('local', model, date),
  owner: 'local',
  model,
  date,
  jobId,
  startingPosition: { cash: value - 1, holdings: {}, portfolioValue: value - 1 },
  endingPosition: { cash: value, holdings: {}, portfolioValue: value },
  trades: [],
  dailyPnl: { profit: 1, returnPct: 0.01 },
  summary: '',
  reasoning: [],
  finished: true,
  toolUsage: {},
  tokenUsage: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
  durationMs: 1,
  createdAt: new Date(),
});

describe('TradingDays summaries on FerretDB', () => {
  it('summarizes days written before summaries existed, once, then every day written since', async () => {
    // Days written straight into the ledger, as versions before the summaries did.
    await db.collections.tradingDays.insertMany([day('old', '2024-12-30', 100), day('old', '2025-01-02', 101)]);
    const days = new TradingDays(db.collections);
    expect((await days.values('local', 'old', '2024-01-01', '2025-12-31')).map((v) => [v.date, v.endValue])).toEqual([
      ['2024-12-30', 100],
      ['2025-01-02', 101],
    ]);
    expect(await days.insertMany([day('old', '2025-01-03', 102), day('new', '2025-01-03', 7, 'job-2')])).toBe(2);
    const again = new TradingDays(db.collections);
    const old = await again.values('local', 'old', '2025-01-01', '2025-01-31');
    expect(old.map((v) => [v.date, v.startValue, v.endValue, v.profit, v.jobId])).toEqual([
      ['2025-01-02', 100, 101, 1, 'job-1'],
      ['2025-01-03', 101, 102, 1, 'job-1'],
    ]);
    expect(await again.lastDate('local', 'old')).toBe('2025-01-03');
    expect(await again.lastDate('local', 'new')).toBe('2025-01-03');
    expect(await again.lastDate('local', 'none')).toBeNull();
    // A day written again keeps its stored version, in the ledger and in its summary.
    expect(await again.insertMany([day('old', '2025-01-03', 999)])).toBe(0);
    expect((await again.values('local', 'old', '2025-01-03', '2025-01-03'))[0]?.endValue).toBe(102);
  });
});

describe('the ledger end over MongoDB (FerretDB)', () => {
  let run = 0;
  ledgerEndContract(async () => ({ days: new TradingDays(db.collections), prefix: `c${run++}-` }));
});
