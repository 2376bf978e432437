import { BarCache } from './storage/barCache.js';
import { connectDatabase } from './storage/db.js';
import { JobStore } from './storage/jobStore.js';
import { ModelLedgers } from './storage/modelLedgers.js';
import { TradingDays } from './storage/tradingDays.js';
import { DAILY_H1, DAILY_H2 } from './test/paths.js';
import { AlphaVantageFileSource } from './trading/market-data/alphaVantageFiles.js';

const db = await connectDatabase('mongodb://127.0.0.1:27120/', 'p');
const jobs = new JobStore(db.collections),
  ledgers = new ModelLedgers(db.collections),
  td = new TradingDays(db.collections);
const src = new AlphaVantageFileSource([DAILY_H1, DAILY_H2]);
const syms = await src.defaultSymbols();
const bars = new BarCache(db.collections, src);
let t = performance.now();
await bars.prepare(syms, '2024-07-01', '2025-10-30');
console.log('prepare', (performance.now() - t).toFixed(0), 'ms');
const phases: Record<string, number> = {};
const time = async <T>(k: string, f: () => Promise<T>) => {
  const s = performance.now();
  const r = await f();
  phases[k] = (phases[k] ?? 0) + performance.now() - s;
  return r;
};
const holdings = Object.fromEntries(syms.slice(0, 30).map((s, i) => [s, i + 1]));
t = performance.now();
for (let d = 0; d < 20; d++) {
  const date = `2025-06-${String(d + 1).padStart(2, '0')}`;
  await Promise.all(
    Array.from({ length: 10 }, async (_, m) => {
      const model = `m${m}`;
      await time('head', () => ledgers.head('local', model));
      await time('setRunning', () =>
        jobs.setModelDay('j', model, date, 'running', { startedAt: new Date(), attempts: 1 }),
      );
      await time('bars.load', () => bars.load(syms, '2024-12-01', date));
      const pos = { cash: 100, holdings, portfolioValue: 10000 };
      await time('insert', () =>
        td.insertOnce({
          _id: `local|${model}|${date}`,
          owner: 'local',
          model,
          date,
          jobId: 'j',
          startingPosition: pos,
          endingPosition: pos,
          trades: [],
          dailyPnl: { profit: 0, returnPct: 0 },
          summary: 'x',
          reasoning: [{ step: 0, role: 'assistant', content: 'holding' }],
          finished: true,
          toolUsage: {},
          tokenUsage: { calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 },
          durationMs: 1,
          createdAt: new Date(),
        }),
      );
      await time('advance', () => ledgers.advance('local', model, date, pos));
      await time('setCompleted', () =>
        jobs.setModelDay('j', model, date, 'completed', { completedAt: new Date(), durationMs: 1 }),
      );
    }),
  );
}
const total = performance.now() - t;
console.log('per date', (total / 20).toFixed(1), 'ms');
for (const [k, v] of Object.entries(phases)) console.log(k, (v / 200).toFixed(2), 'ms avg per model-day');
await db.close();
