import { describe, expect, it } from 'vitest';
import type { Bar } from '../../trading/bars.js';
import { weekly } from './prices.js';

const bar = (date: string, open: number, high: number, low: number, close: number): Bar => ({
  date,
  open,
  high,
  low,
  close,
  volume: 10,
});

describe('weekly bars', () => {
  it('open on the week’s first day, close on its last, with its extremes and volume; a week starts on Monday', () => {
    // Thursday, Friday; then Monday to Wednesday of the next week (Tuesday a holiday).
    const days = [
      bar('2025-01-02', 10, 12, 9, 11),
      bar('2025-01-03', 11, 13, 10, 12),
      bar('2025-01-06', 12, 15, 11, 14),
      bar('2025-01-08', 14, 14, 8, 9),
    ];
    expect(weekly(days)).toEqual([
      { date: '2025-01-02', open: 10, high: 13, low: 9, close: 12, volume: 20 },
      { date: '2025-01-06', open: 12, high: 15, low: 8, close: 9, volume: 20 },
    ]);
    // The days themselves are left as they were.
    expect(days[0]).toEqual(bar('2025-01-02', 10, 12, 9, 11));
  });
});
