import type { MoneyUnits } from './money.js';
import { costOf, toDollars, toUnits } from './money.js';
import type { TradeAction } from './portfolio.js';

/**
 * What trading costs in a run: a broker's commission (per share and per order, with a minimum per
 * order), fees on the traded value, and slippage that moves each fill against the order. All zero
 * (`NO_COSTS`) is the AI-Trader contract: fills at the open, free.
 */
export interface TradingCosts {
  /** Dollars per share traded. */
  commissionPerShare: number;
  /** Dollars per order. */
  commissionPerOrder: number;
  /** The least one order's commission is, dollars (applied when the two above come to less). */
  commissionMinimum: number;
  /** Fees on the traded value (exchange, regulatory, spread), basis points. */
  feeBps: number;
  /** The fill moves this many basis points of the reference price against the order. */
  slippageBps: number;
  /**
   * Plus this fraction of the last completed bar's range (high − low). The last completed bar, not the
   * one being traded: its range is not known at the open, and a fill price must not reveal it.
   */
  slippageRangeFraction: number;
}

export const NO_COSTS: TradingCosts = Object.freeze({
  commissionPerShare: 0,
  commissionPerOrder: 0,
  commissionMinimum: 0,
  feeBps: 0,
  slippageBps: 0,
  slippageRangeFraction: 0,
});

/** One order's fill: the price it was asked at, the price it got, and what it paid on top. */
export interface Fill {
  /** The bar's open, before slippage. */
  referencePrice: MoneyUnits;
  /** After slippage: higher for a buy, lower for a sell, never below one unit. */
  price: MoneyUnits;
  /** Commission plus fees, in money units; paid in cash on top of a buy, taken from a sell's proceeds. */
  fee: MoneyUnits;
}

/**
 * The fill of `quantity` shares at `reference` (the open) under `costs`. `lastRange` is the last
 * completed bar's high − low in money units (absent: no range slippage). Amounts round to the nearest
 * money unit (1/100 of a cent), so a fill is the same on every machine.
 */
export function fillOf(
  costs: TradingCosts,
  action: TradeAction,
  quantity: number,
  reference: MoneyUnits,
  lastRange?: MoneyUnits,
): Fill {
  const slip = (reference * costs.slippageBps) / 10_000 + costs.slippageRangeFraction * Math.max(0, lastRange ?? 0);
  const price = Math.max(1, Math.round(action === 'buy' ? reference + slip : reference - slip));
  const commission = Math.max(
    toUnits(costs.commissionMinimum),
    quantity * toUnits(costs.commissionPerShare) + toUnits(costs.commissionPerOrder),
  );
  const fees = Math.round((costOf(quantity, price) * costs.feeBps) / 10_000);
  return { referencePrice: reference, price, fee: commission + fees };
}

/** Whether a run pays anything to trade (then every fill records its costs). */
export function hasCosts(costs: TradingCosts | undefined): costs is TradingCosts {
  return costs !== undefined && Object.values(costs).some((v) => v !== 0);
}

/** The cost schedule in words, for the agent's instructions: it decides knowing what a trade costs. */
export function describeCosts(costs: TradingCosts): string {
  if (!hasCosts(costs)) return 'Trading is free: orders fill at the open with no commission, fees or slippage.';
  const parts: string[] = [];
  if (costs.commissionPerShare || costs.commissionPerOrder || costs.commissionMinimum) {
    parts.push(
      `commission $${costs.commissionPerShare} per share + $${costs.commissionPerOrder} per order, at least $${costs.commissionMinimum} per order`,
    );
  }
  if (costs.feeBps) parts.push(`fees ${costs.feeBps} bps of the traded value`);
  if (costs.slippageBps || costs.slippageRangeFraction) {
    parts.push(
      `slippage ${costs.slippageBps} bps${costs.slippageRangeFraction ? ` + ${costs.slippageRangeFraction} x the previous day's high-low range` : ''} against the order`,
    );
  }
  return `Each order costs: ${parts.join('; ')}. Commission and fees are paid in cash.`;
}

/** A fill's costs in dollars, as a trade record and a tool answer carry them. */
export function fillCostsInDollars(fill: Fill) {
  return {
    price_before_slippage: toDollars(fill.referencePrice),
    slippage: toDollars(Math.abs(fill.price - fill.referencePrice)),
    fee: toDollars(fill.fee),
  };
}
