import { fillOf, hasCosts, type TradingCosts } from './costs.js';
import type { MarketView } from './marketView.js';
import { toDollars, toUnits } from './money.js';
import type { Portfolio, TradeAction } from './portfolio.js';

export interface DeskResult {
  ok: boolean;
  message: string;
  cash: number;
  holdings: Record<string, number>;
}

/**
 * The only way an agent trades: orders fill at today's open, and refusals say why so an LLM can
 * correct itself. Tool usage is counted here so every agent reports it the same way.
 */
export class TradingDesk {
  readonly toolUsage: Record<string, number> = {};

  constructor(
    readonly view: MarketView,
    readonly portfolio: Portfolio,
    /** The run's trading costs; absent or all zero: fills at the open, free. */
    readonly costs?: TradingCosts,
  ) {}

  count(tool: string): void {
    this.toolUsage[tool] = (this.toolUsage[tool] ?? 0) + 1;
  }

  buy(symbol: string, quantity: number): DeskResult {
    return this.order('buy', symbol, quantity);
  }

  sell(symbol: string, quantity: number): DeskResult {
    return this.order('sell', symbol, quantity);
  }

  /** The most shares of `symbol` cash can buy today, trading costs included (0: not tradable). */
  maxBuyable(symbol: string): number {
    const open = this.view.openToday(symbol.toUpperCase());
    if (open === undefined) return 0;
    const cash = this.portfolio.cashUnits;
    const costOf = (q: number) => {
      const { price, fee } = this.fillFor('buy', symbol.toUpperCase(), q, toUnits(open));
      return q * price + fee;
    };
    // The cost grows with the quantity: the largest affordable one, by bisection.
    let lo = 0;
    let hi = Math.floor(cash / toUnits(open)) + 1;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (costOf(mid) <= cash) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  position(): Omit<DeskResult, 'ok' | 'message'> {
    const snap = this.portfolio.snapshot();
    return { cash: toDollars(snap.cash), holdings: snap.holdings };
  }

  private order(action: TradeAction, rawSymbol: string, quantity: number): DeskResult {
    this.count(action);
    const symbol = rawSymbol.toUpperCase();
    const open = this.view.openToday(symbol);
    if (open === undefined) {
      return {
        ok: false,
        message: `${symbol} has no price today (${this.view.date}): not tradable`,
        ...this.position(),
      };
    }
    const reference = toUnits(open);
    const { price, ...fillCosts } = this.fillFor(action, symbol, quantity, reference);
    const costs = hasCosts(this.costs) ? fillCosts : undefined;
    const outcome =
      action === 'buy'
        ? this.portfolio.buy(symbol, quantity, price, costs)
        : this.portfolio.sell(symbol, quantity, price, costs);
    const paid = costs ? ` (open ${toDollars(reference)}, commission and fees ${toDollars(costs.fee)})` : '';
    const message = outcome.ok
      ? `${action === 'buy' ? 'bought' : 'sold'} ${quantity} ${symbol} at ${toDollars(price)}${paid}`
      : outcome.reason;
    return { ok: outcome.ok, message, ...this.position() };
  }

  /** An order's fill under the run's costs: the open itself when trading is free. */
  private fillFor(action: TradeAction, symbol: string, quantity: number, reference: number) {
    if (!hasCosts(this.costs) || !Number.isSafeInteger(quantity) || quantity <= 0) {
      return { price: reference, fee: 0, referencePrice: reference };
    }
    const last = this.view.history(symbol, 1)[0];
    const range = last ? toUnits(last.high) - toUnits(last.low) : undefined;
    return fillOf(this.costs, action, quantity, reference, range);
  }
}
