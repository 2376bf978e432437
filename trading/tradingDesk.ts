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
    const price = toUnits(open);
    const outcome =
      action === 'buy' ? this.portfolio.buy(symbol, quantity, price) : this.portfolio.sell(symbol, quantity, price);
    const message = outcome.ok
      ? `${action === 'buy' ? 'bought' : 'sold'} ${quantity} ${symbol} at ${toDollars(price)}`
      : outcome.reason;
    return { ok: outcome.ok, message, ...this.position() };
  }
}
