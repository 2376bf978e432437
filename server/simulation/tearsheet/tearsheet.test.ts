import { describe, expect, it } from 'vitest';
import type { SimulationJob } from '../../../jobs/records.js';
import type { DayValue } from '../../../storage/ledgerSummaries.js';
import { tearSheetHtml } from './html.js';
import { indexSeries, monthlyReturns, tearSheet } from './model.js';

const day = (date: string, startValue: number, endValue: number): DayValue => ({
  date,
  startValue,
  endValue,
  profit: endValue - startValue,
  returnPct: (endValue / startValue - 1) * 100,
  trades: 1,
  jobId: 'sim-1',
});

describe('the tear sheet’s series', () => {
  const days = [
    day('2025-01-30', 1000, 1100),
    day('2025-01-31', 1100, 990),
    day('2025-02-03', 990, 1045),
    day('2025-02-04', 1045, 1210),
  ];

  it('indexes values to 100 at the start and measures each fall from the running peak', () => {
    expect(indexSeries(days)).toEqual([
      { date: '2025-01-30', index: 110, drawdown_pct: 0 },
      { date: '2025-01-31', index: 99, drawdown_pct: -10 },
      { date: '2025-02-03', index: 104.5, drawdown_pct: -5 },
      { date: '2025-02-04', index: 121, drawdown_pct: 0 },
    ]);
  });

  it('compounds each month from its days', () => {
    expect(monthlyReturns(days)).toEqual([
      { month: '2025-01', return_pct: -1 },
      { month: '2025-02', return_pct: expect.closeTo((1210 / 990 - 1) * 100, 4) },
    ]);
  });
});

describe('the tear sheet page', () => {
  it('escapes every name it shows, and no value can end its data block', () => {
    const hostile = '</script><script>alert(1)</script>';
    const job = {
      _id: 'sim-x',
      kind: 'simulation',
      status: 'completed',
      models: [hostile],
      symbols: ['AAA'],
      dateRange: { start: '2025-01-30', end: '2025-02-04' },
    } as unknown as SimulationJob;
    const sheet = tearSheet(job, { days: new Map([[hostile, [day('2025-01-30', 1000, 1100)]]]) }, []);
    const page = tearSheetHtml(sheet, []);
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    const data = page.match(/<script type="application\/json" id="tearsheet-data">(.*)<\/script>/s)![1]!;
    expect(JSON.parse(data).run.models).toEqual([hostile]);
  });
});
