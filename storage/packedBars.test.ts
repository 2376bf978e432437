import { describe, expect, it } from 'vitest';
import { packBars, unpackBars } from './packedBars.js';

describe('packed bars', () => {
  it('round-trips every field exactly, including awkward doubles', () => {
    const bars = [
      { date: '2025-01-02', open: 248.0494, high: 248.2189, low: 240.9646, close: 242.9874, volume: 55740700 },
      { date: '2025-01-03', open: 0.1 + 0.2, high: 1e-7, low: 83.15299999999999, close: 1 / 3, volume: 0 },
    ];
    expect(unpackBars(packBars(bars))).toEqual(bars);
    expect(unpackBars(packBars([]))).toEqual([]);
  });

  it('refuses a damaged line rather than returning a wrong price', () => {
    expect(() => unpackBars('2025-01-02,1,2,0.5,x,10')).toThrow(/malformed stored bar/);
  });
});
