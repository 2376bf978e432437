import type { Collections } from './db.js';
import type { LedgerIndexDoc, PackedDay, TradingDayDoc } from './types.js';

/** One day of a model's ledger, as the results' daily values and period metrics need it. */
export interface DayValue {
  date: string;
  /** Portfolio value at the day's start and end, dollars. */
  startValue: number;
  endValue: number;
  profit: number;
  returnPct: number;
  trades: number;
  jobId: string;
  /** Dollars bought plus sold (at fill prices); cash at the close; commission and fees paid. Absent in
   * summaries written before they were kept. */
  traded?: number;
  cash?: number;
  fees?: number;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** A trading day as the daily values carry it. */
export function dayValueOf(d: TradingDayDoc): DayValue {
  return {
    date: d.date,
    startValue: d.startingPosition.portfolioValue,
    endValue: d.endingPosition.portfolioValue,
    profit: d.dailyPnl.profit,
    returnPct: d.dailyPnl.returnPct,
    trades: d.trades.length,
    jobId: d.jobId,
    traded: round4(d.trades.reduce((s, t) => s + Math.abs(t.quantity * t.price), 0)),
    cash: d.endingPosition.cash,
    fees: round4(d.trades.reduce((s, t) => s + (t.fee ?? 0), 0)),
  };
}

export type { LedgerIndexDoc, LedgerMonthDoc } from './types.js';

const monthId = (owner: string, model: string, month: string) => `${owner}|${model}|${month}`;
const monthOf = (date: string) => date.slice(0, 7);
const indexId = (owner: string, model: string) => `${owner}|${model}`;
/** The index's marker that days written before summaries existed have been summarized. */
const BACKFILLED = '|backfilled';

function pack(d: TradingDayDoc): PackedDay {
  const v = dayValueOf(d);
  return [v.startValue, v.endValue, v.profit, v.returnPct, v.trades, v.jobId, v.traded!, v.cash!, v.fees!];
}

function unpack(date: string, p: PackedDay): DayValue {
  const [startValue, endValue, profit, returnPct, trades, jobId, traded, cash, fees] = p;
  return {
    date,
    startValue,
    endValue,
    profit,
    returnPct,
    trades,
    jobId,
    ...(traded !== undefined ? { traded } : {}),
    ...(cash !== undefined ? { cash } : {}),
    ...(fees !== undefined ? { fees } : {}),
  };
}

/**
 * A model's daily values by month, one small document per owner, model and month, and an index of its
 * months: a year of results for ten models is some hundred reads by key instead of a search of every
 * trading day (FerretDB pushes down nothing but `_id`), and adding a day rewrites a month, not a year.
 * Written with each day; built from the ledger once per model for days written before these existed.
 */
export class LedgerSummaries {
  /** Months this process knows the index holds: a commit adds its days with one write, not two. */
  private readonly indexed = new Set<string>();
  private backfill: Promise<void> | undefined;

  constructor(private readonly c: Pick<Collections, 'ledgerMonths' | 'ledgerIndex' | 'tradingDays'>) {}

  /** Adds days just written to the ledger. Writes of one model come from one job at a time (its lock). */
  async record(days: readonly TradingDayDoc[]): Promise<void> {
    const groups = new Map<string, TradingDayDoc[]>();
    for (const d of days) {
      const key = monthId(d.owner, d.model, monthOf(d.date));
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    if (groups.size === 0) return;
    // One round trip for all the models of a date.
    await this.c.ledgerMonths.bulkWrite(
      [...groups].map(([_id, group]) => {
        const { owner, model, date } = group[0]!;
        const set: Record<string, unknown> = { owner, model, month: monthOf(date) };
        for (const d of group) set[`days.${d.date}`] = pack(d);
        return { updateOne: { filter: { _id }, update: { $set: set }, upsert: true } };
      }),
      { ordered: false },
    );
    for (const [_id, group] of groups) {
      if (this.indexed.has(_id)) continue;
      const { owner, model, date } = group[0]!;
      await this.c.ledgerIndex.updateOne(
        { _id: indexId(owner, model) },
        { $set: { owner, model }, $addToSet: { months: monthOf(date) } },
        { upsert: true },
      );
      this.indexed.add(_id);
    }
  }

  /** Where a model's ledger ends (null: no day yet): its last day. */
  /** A model's last day (null: none): from its latest month back, usually one read. */
  async lastDate(owner: string, model: string): Promise<string | null> {
    return this.lastDateBefore(owner, model, '9999-12-31');
  }

  /** A model's last day before `date` (null: none). */
  async lastDateBefore(owner: string, model: string, date: string): Promise<string | null> {
    const index = await this.index(owner, model);
    // Latest month first: months emptied by a replaced run may stay in the index, so look further back.
    for (const month of (index?.months ?? [])
      .filter((m) => m <= monthOf(date))
      .sort()
      .reverse()) {
      const doc = await this.c.ledgerMonths.findOne({ _id: monthId(owner, model, month) });
      const before = Object.keys(doc?.days ?? {})
        .filter((d) => d < date)
        .sort()
        .at(-1);
      if (before) return before;
    }
    return null;
  }

  /** A model's days from `date` on, oldest first, read month by month by key. */
  async datesFrom(owner: string, model: string, date: string): Promise<string[]> {
    const index = await this.index(owner, model);
    const months = (index?.months ?? []).filter((m) => m >= monthOf(date)).sort();
    const docs = await Promise.all(months.map((m) => this.c.ledgerMonths.findOne({ _id: monthId(owner, model, m) })));
    return docs.flatMap((doc) => Object.keys(doc?.days ?? {}).filter((d) => d >= date)).sort();
  }

  /** Takes days out of a model's summaries (a run that replaces them writes its own; the model is locked). */
  async forget(owner: string, model: string, dates: readonly string[]): Promise<void> {
    const byMonth = new Map<string, string[]>();
    for (const d of dates) byMonth.set(monthOf(d), [...(byMonth.get(monthOf(d)) ?? []), d]);
    if (byMonth.size === 0) return;
    await this.c.ledgerMonths.bulkWrite(
      [...byMonth].map(([month, days]) => ({
        updateOne: {
          filter: { _id: monthId(owner, model, month) },
          update: { $unset: Object.fromEntries(days.map((d) => [`days.${d}`, ''])) },
        },
      })),
      { ordered: false },
    );
  }

  /** A model's days in [from, to], oldest first. */
  async values(owner: string, model: string, from: string, to: string): Promise<DayValue[]> {
    const index = await this.index(owner, model);
    if (!index) return [];
    const months = index.months.filter((m) => m >= monthOf(from) && m <= monthOf(to)).sort();
    const docs = await Promise.all(months.map((m) => this.c.ledgerMonths.findOne({ _id: monthId(owner, model, m) })));
    const out: DayValue[] = [];
    for (const doc of docs) {
      for (const [date, packed] of Object.entries(doc?.days ?? {})) {
        if (date >= from && date <= to) out.push(unpack(date, packed));
      }
    }
    return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  }

  /** The model's index, built from its whole ledger the first time (one search per model, ever). */
  private async index(owner: string, model: string): Promise<LedgerIndexDoc | null> {
    await this.backfilled();
    return this.c.ledgerIndex.findOne({ _id: indexId(owner, model) });
  }

  /**
   * Days written before summaries existed are summarized once per database, on the first read that
   * needs them: one search of the ledger, ever; a marker says it is done.
   */
  private backfilled(): Promise<void> {
    this.backfill ??= (async () => {
      if (await this.c.ledgerIndex.findOne({ _id: BACKFILLED })) return;
      const days = this.c.tradingDays.find({}, { projection: { reasoning: 0, summary: 0, toolUsage: 0 } });
      let batch: TradingDayDoc[] = [];
      for await (const day of days) {
        batch.push(day);
        if (batch.length >= 500) {
          await this.record(batch);
          batch = [];
        }
      }
      await this.record(batch);
      await this.c.ledgerIndex.updateOne({ _id: BACKFILLED }, { $set: { months: [] } }, { upsert: true });
    })().catch((err) => {
      this.backfill = undefined;
      throw err;
    });
    return this.backfill;
  }
}
