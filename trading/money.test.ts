import { describe, expect, it } from 'vitest';
import { costOf, percentChange, toDollars, toUnits } from './money.js';

describe('money', () => {
  it('holds four-decimal prices exactly', () => {
    expect(toUnits('241.1996')).toBe(2_411_996);
    expect(toUnits(0.1) + toUnits(0.2)).toBe(toUnits(0.3));
    expect(toDollars(toUnits('0.1') + toUnits('0.2'))).toBe(0.3);
  });

  it('does not drift over many small sums, unlike float dollars', () => {
    let units = 0;
    let float = 0;
    for (let i = 0; i < 100_000; i++) {
      units += toUnits('0.0001') * 3 + toUnits('123.4567');
      float += 0.0003 + 123.4567;
    }
    expect(toDollars(units)).toBe(12_345_700);
    expect(float).not.toBe(12_345_700);
  });

  it('refuses fractional shares and non-numbers', () => {
    expect(() => costOf(1.5, 100)).toThrow(/whole number/);
    expect(() => toUnits('abc')).toThrow(/not a finite amount/);
  });

  it('computes percentage change', () => {
    expect(percentChange(toUnits(10_000), toUnits(10_250))).toBe(2.5);
    expect(percentChange(0, 5)).toBe(0);
  });
});
