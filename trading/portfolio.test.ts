import { describe, expect, it } from 'vitest';
import { toUnits } from './money.js';
import { Portfolio } from './portfolio.js';

describe('Portfolio', () => {
  it('buys and sells whole shares at a price, moving cash exactly', () => {
    const p = new Portfolio({ cash: toUnits(1000), holdings: {} });
    expect(p.buy('AAPL', 3, toUnits('241.1996')).ok).toBe(true);
    expect(p.cashUnits).toBe(toUnits(1000) - 3 * 2_411_996);
    expect(p.sell('AAPL', 1, toUnits('250')).ok).toBe(true);
    expect(p.snapshot()).toEqual({ cash: toUnits(1000) - 3 * 2_411_996 + 2_500_000, holdings: { AAPL: 2 } });
    expect(p.trades).toHaveLength(2);
  });

  it('refuses a buy the cash cannot cover, and says why', () => {
    const p = new Portfolio({ cash: toUnits(100), holdings: {} });
    const r = p.buy('NVDA', 1, toUnits(120));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/insufficient cash.*costs 120.*cash is 100/) });
    expect(p.snapshot()).toEqual({ cash: toUnits(100), holdings: {} });
  });

  it('refuses selling shares it does not hold (long only)', () => {
    const p = new Portfolio({ cash: 0, holdings: { MSFT: 2 } });
    expect(p.sell('MSFT', 3, toUnits(400))).toEqual({
      ok: false,
      reason: 'insufficient shares: selling 3 MSFT, holding 2',
    });
    expect(p.sell('TSLA', 1, toUnits(400)).ok).toBe(false);
  });

  it('refuses fractional, zero and negative quantities', () => {
    const p = new Portfolio({ cash: toUnits(1000), holdings: {} });
    for (const q of [0, -1, 1.5, Number.NaN]) expect(p.buy('AAPL', q, toUnits(1)).ok).toBe(false);
  });

  it('values holdings at given prices and refuses to value a holding without a price', () => {
    const p = new Portfolio({ cash: toUnits(10), holdings: { AAPL: 2 } });
    expect(p.value(() => toUnits(5))).toBe(toUnits(20));
    expect(() => p.value(() => undefined)).toThrow(/no price/);
  });
});
