import type { ModelDayStatus } from '../jobs/lifecycle.js';
import type { TokenUsage } from '../trading/agents/types.js';
import type { IsoDate } from '../trading/calendar.js';
import type { Trade } from '../trading/portfolio.js';

export interface ModelDayDoc {
  _id: string;
  jobId: string;
  model: string;
  date: IsoDate;
  status: ModelDayStatus;
  startedAt?: Date;
  completedAt?: Date;
  durationMs?: number;
  error?: string;
  attempts?: number;
  tokenUsage?: TokenUsage;
  /** Milliseconds per phase of the last attempt: position, market, agent, valuation, write. */
  phasesMs?: Record<string, number>;
}

export interface PositionRecord {
  cash: number;
  holdings: Record<string, number>;
  portfolioValue: number;
}

/** One model's trading day: written once, whole, so a retried activity can never write half a day twice. */
export interface TradingDayDoc {
  _id: string;
  owner: string;
  model: string;
  date: IsoDate;
  jobId: string;
  startingPosition: PositionRecord;
  endingPosition: PositionRecord;
  trades: Array<Omit<Trade, 'price' | 'total'> & { price: number; total: number }>;
  dailyPnl: { profit: number; returnPct: number };
  summary: string;
  reasoning: Array<{ step: number; role: string; content: string; tool?: string; arguments?: unknown }>;
  finished: boolean;
  toolUsage: Record<string, number>;
  tokenUsage: TokenUsage;
  durationMs: number;
  createdAt: Date;
}

export interface ModelLockDoc {
  _id: string;
  owner: string;
  model: string;
  jobId: string;
  idempotencyKey: string;
  acquiredAt: Date;
}

export interface BarsDoc {
  _id: string;
  source: string;
  symbol: string;
  bars: Array<{ date: IsoDate; open: number; high: number; low: number; close: number; volume: number }>;
  /** The dates the source was asked for: a holiday inside it is known to have no bar, not missing. */
  range: { from: IsoDate; to: IsoDate };
  updatedAt: Date;
}

export interface ModelLedgerDoc {
  _id: string;
  owner: string;
  model: string;
  lastDate: IsoDate;
  position: PositionRecord;
  updatedAt: Date;
}
