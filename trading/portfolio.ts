import type { MoneyUnits } from './money.js';
import { costOf, toDollars } from './money.js';

export interface Position {
  cash: MoneyUnits;
  /** Whole shares per symbol; symbols with zero shares are absent. */
  holdings: Record<string, number>;
}

export type TradeAction = 'buy' | 'sell';

export interface Trade {
  action: TradeAction;
  symbol: string;
  quantity: number;
  price: MoneyUnits;
  /** The cash the trade moved: paid for a buy, received for a sell, costs included. */
  total: MoneyUnits;
  /** Set when the run has trading costs: commission and fees paid, and the price before slippage. */
  fee?: MoneyUnits;
  referencePrice?: MoneyUnits;
}

/** What a fill cost beyond its price: `fee` in cash, and the price it had before slippage. */
export interface FillCosts {
  fee: MoneyUnits;
  referencePrice: MoneyUnits;
}

export type TradeOutcome = { ok: true; trade: Trade } | { ok: false; reason: string };

/** Long-only cash account with whole shares: orders that cash or holdings cannot cover are refused with a reason. */
export class Portfolio {
  private cash: MoneyUnits;
  private readonly holdings = new Map<string, number>();
  readonly trades: Trade[] = [];

  constructor(start: Position) {
    this.cash = start.cash;
    for (const [s, q] of Object.entries(start.holdings)) if (q > 0) this.holdings.set(s, q);
  }

  get cashUnits(): MoneyUnits {
    return this.cash;
  }

  shares(symbol: string): number {
    return this.holdings.get(symbol) ?? 0;
  }

  buy(symbol: string, quantity: number, price: MoneyUnits, costs?: FillCosts): TradeOutcome {
    const invalid = checkOrder(quantity, price);
    if (invalid) return { ok: false, reason: invalid };
    const fee = costs?.fee ?? 0;
    const total = costOf(quantity, price) + fee;
    if (total > this.cash) {
      return {
        ok: false,
        reason: `insufficient cash: buying ${quantity} ${symbol} at ${toDollars(price)} costs ${toDollars(total)}${fee ? ` (${toDollars(fee)} of it commission and fees)` : ''}, cash is ${toDollars(this.cash)}`,
      };
    }
    this.cash -= total;
    this.holdings.set(symbol, this.shares(symbol) + quantity);
    return this.record({ action: 'buy', symbol, quantity, price, total, ...costs });
  }

  sell(symbol: string, quantity: number, price: MoneyUnits, costs?: FillCosts): TradeOutcome {
    const invalid = checkOrder(quantity, price);
    if (invalid) return { ok: false, reason: invalid };
    const held = this.shares(symbol);
    if (quantity > held) {
      return { ok: false, reason: `insufficient shares: selling ${quantity} ${symbol}, holding ${held}` };
    }
    const fee = costs?.fee ?? 0;
    const total = costOf(quantity, price) - fee;
    // A sale whose costs exceed its proceeds (a minimum commission on a tiny order) is paid from cash.
    if (this.cash + total < 0) {
      return {
        ok: false,
        reason: `insufficient cash: selling ${quantity} ${symbol} brings ${toDollars(costOf(quantity, price))} but costs ${toDollars(fee)} in commission and fees, cash is ${toDollars(this.cash)}`,
      };
    }
    this.cash += total;
    if (held === quantity) this.holdings.delete(symbol);
    else this.holdings.set(symbol, held - quantity);
    return this.record({ action: 'sell', symbol, quantity, price, total, ...costs });
  }

  /** Cash plus every holding at the given prices; a holding without a price is an error, never a silent zero. */
  value(prices: (symbol: string) => MoneyUnits | undefined): MoneyUnits {
    let total = this.cash;
    for (const [symbol, quantity] of this.holdings) {
      const p = prices(symbol);
      if (p === undefined) throw new Error(`no price to value ${quantity} ${symbol}`);
      total += costOf(quantity, p);
    }
    return total;
  }

  snapshot(): Position {
    return { cash: this.cash, holdings: Object.fromEntries([...this.holdings].sort(([a], [b]) => (a < b ? -1 : 1))) };
  }

  private record(trade: Trade): TradeOutcome {
    this.trades.push(trade);
    return { ok: true, trade };
  }
}

function checkOrder(quantity: number, price: MoneyUnits): string | undefined {
  if (!Number.isSafeInteger(quantity) || quantity <= 0)
    return `quantity must be a whole number above 0, got ${quantity}`;
  if (!Number.isSafeInteger(price) || price <= 0) return `no valid price`;
  return undefined;
}
