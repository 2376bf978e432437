/**
 * Money is held as integer units of 1/10,000 of a dollar: Alpha Vantage quotes carry four decimals,
 * so every fill and every cash balance is exact and sums never drift the way float cents do.
 */
export type MoneyUnits = number;

export const UNITS_PER_DOLLAR = 10_000;

/** Converts a price or amount in dollars (number or decimal string) to exact units. */
export function toUnits(dollars: number | string): MoneyUnits {
  const value = typeof dollars === 'string' ? Number(dollars) : dollars;
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${dollars}`);
  return Math.round(value * UNITS_PER_DOLLAR);
}

/** Dollars for display and JSON; exact for every unit count below 2^53. */
export function toDollars(units: MoneyUnits): number {
  return units / UNITS_PER_DOLLAR;
}

export function costOf(shares: number, priceUnits: MoneyUnits): MoneyUnits {
  if (!Number.isSafeInteger(shares)) throw new RangeError(`shares must be a whole number: ${shares}`);
  return shares * priceUnits;
}

/** Percentage change from `from` to `to`, rounded to 4 decimals; 0 when `from` is 0. */
export function percentChange(from: MoneyUnits, to: MoneyUnits): number {
  if (from === 0) return 0;
  return Math.round(((to - from) / from) * 100 * 10_000) / 10_000;
}
