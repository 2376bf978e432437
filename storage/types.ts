import type { JobEventType } from '../jobs/events.js';
import type { ModelDayStatus } from '../jobs/lifecycle.js';
import type { AnalysisErrorType, ModelDayCounts } from '../jobs/records.js';
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
  note?: string;
}

export interface PositionRecord {
  cash: number;
  holdings: Record<string, number>;
  portfolioValue: number;
}

export type ReasoningRecord = { step: number; role: string; content: string; tool?: string; arguments?: unknown };

/** One model's trading day: written once, whole, so a retried activity can never write half a day twice. */
export interface TradingDayDoc {
  _id: string;
  owner: string;
  model: string;
  date: IsoDate;
  jobId: string;
  startingPosition: PositionRecord;
  endingPosition: PositionRecord;
  /** In dollars; `fee` and `referencePrice` (before slippage) only in runs with trading costs. */
  trades: Array<
    Omit<Trade, 'price' | 'total' | 'fee' | 'referencePrice'> & {
      price: number;
      total: number;
      fee?: number;
      referencePrice?: number;
    }
  >;
  dailyPnl: { profit: number; returnPct: number };
  summary: string;
  reasoning: ReasoningRecord[];
  /** Set when the reasoning was too large to carry: it is stored apart under this key (reasoning is []). */
  reasoningRef?: string;
  finished: boolean;
  /** Holdings without a bar on this day (a halt), valued at the previous trading day's close. */
  valuedAtPreviousClose?: string[];
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

/**
 * One symbol's bars for one calendar year, as one fetch from the source returned them for
 * [January 1, `through`]: a date up to `through` without a bar is known to have none (a holiday), not
 * missing. Every document is written whole from a single fetch and only ever replaced by one reaching
 * further, so concurrent writers can never leave it claiming dates it does not hold.
 */
export interface BarYearDoc {
  /** `${source}|${symbol}|${year}`: every read is by `_id`, the only lookup FerretDB v1 pushes down. */
  _id: string;
  source: string;
  symbol: string;
  year: number;
  /** The last date the source was asked for: December 31, or its latest date while the year is open. */
  through: IsoDate;
  /** The bars, packed by `packBars` (see there why a string). */
  bars: string;
  fetchedAt: Date;
}

export interface ModelLedgerDoc {
  _id: string;
  owner: string;
  model: string;
  /** The version of the head this copy holds (storage/modelLedgers.ts); absent: written before versions. */
  version?: number;
  lastDate: IsoDate;
  position: PositionRecord;
  updatedAt: Date;
}

/** One step of a model's ledger head, inserted once under `owner|model|version` (null: rewound to no day). */
export interface ModelLedgerVersionDoc {
  _id: string;
  lastDate: IsoDate | null;
  position: PositionRecord | null;
  at: Date;
}

// Documents of stores that storage/db.ts types its collections with: here, so no store imports db.ts
// while db.ts imports it.

export interface JobEventDoc {
  /** `${jobId}|${seq}` with seq zero-padded: every read is a lookup by key, the one query FerretDB v1 pushes down. */
  _id: string;
  jobId: string;
  seq: number;
  type: JobEventType;
  data: Record<string, unknown>;
  at: Date;
  /** The dedup key it was written under, if any. */
  key?: string;
}

/** What a move between statuses may also set, in the same atomic write. */
export interface TransitionFields {
  startedAt?: Date;
  completedAt?: Date;
  error?: string;
  summary?: ModelDayCounts;
  /** Analysis jobs: why the run failed. */
  errorType?: AnalysisErrorType;
}

export interface JobTransitionDoc {
  _id: string;
  status?: string;
  fields?: TransitionFields;
  opener?: string;
  at: Date;
}

/**
 * Compact, for a month of days in one document: [start, end, profit, returnPct, trades, jobId, traded,
 * cash, fees] (the last three absent in days summarized before they were kept).
 */
export type PackedDay = [number, number, number, number, number, string, number?, number?, number?];

export interface LedgerMonthDoc {
  _id: string;
  owner: string;
  model: string;
  month: string;
  days: Record<string, PackedDay>;
}

export interface LedgerIndexDoc {
  _id: string;
  owner: string;
  model: string;
  months: string[];
}
