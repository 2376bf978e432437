import { jobFailure } from '../../jobs/failures.js';
import { tradingDayId } from '../../storage/tradingDays.js';
import type { PositionRecord, TradingDayDoc } from '../../storage/types.js';
import type { AgentRun } from '../../trading/agents/types.js';
import type { BarSeries } from '../../trading/bars.js';
import { percentChange, toDollars, toUnits } from '../../trading/money.js';
import type { Portfolio } from '../../trading/portfolio.js';
import { closeForValuation, MissingMarketData } from '../../trading/valuation.js';
import type { ModelDayRef } from '../../workflows/definitions.js';

/**
 * A model's day once its agent has traded: the portfolio valued at the day's close (never at a stale
 * price: trading/valuation.ts), the day's P&L against where it started, its trades in dollars. Pure: the
 * model-day's I/O (bars, the agent, the clock) happens around it.
 */
export function closeOfDay(i: {
  ref: ModelDayRef;
  start: PositionRecord;
  series: BarSeries;
  portfolio: Portfolio;
  run: AgentRun;
  toolUsage: Record<string, number>;
  durationMs: number;
  createdAt: Date;
}): { doc: TradingDayDoc; valuedAtPreviousClose: string[] } {
  const { jobId, owner, model, date } = i.ref;
  const atPreviousClose: string[] = [];
  const closeOf = (symbol: string): number => {
    const price = closeForValuation(i.series.get(symbol), symbol, date);
    if (price.date !== date) atPreviousClose.push(symbol);
    return toUnits(price.close);
  };
  let endValue: number;
  try {
    endValue = i.portfolio.value(closeOf);
  } catch (err) {
    if (err instanceof MissingMarketData) throw jobFailure('MissingMarketData', err.message);
    throw err;
  }
  const startValue = toUnits(i.start.portfolioValue);
  const snap = i.portfolio.snapshot();
  return {
    doc: {
      _id: tradingDayId(owner, model, date),
      owner,
      model,
      date,
      jobId,
      startingPosition: i.start,
      endingPosition: { cash: toDollars(snap.cash), holdings: snap.holdings, portfolioValue: toDollars(endValue) },
      trades: i.portfolio.trades.map((t) => ({
        ...t,
        price: toDollars(t.price),
        total: toDollars(t.total),
        ...(t.fee !== undefined ? { fee: toDollars(t.fee) } : {}),
        ...(t.referencePrice !== undefined ? { referencePrice: toDollars(t.referencePrice) } : {}),
      })),
      dailyPnl: { profit: toDollars(endValue - startValue), returnPct: percentChange(startValue, endValue) },
      summary: i.run.summary,
      reasoning: i.run.steps,
      finished: i.run.finished,
      ...(atPreviousClose.length > 0 ? { valuedAtPreviousClose: atPreviousClose } : {}),
      toolUsage: i.toolUsage,
      tokenUsage: i.run.tokenUsage,
      durationMs: i.durationMs,
      createdAt: i.createdAt,
    },
    valuedAtPreviousClose: atPreviousClose,
  };
}
