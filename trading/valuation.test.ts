import { describe, expect, it } from 'vitest';
import type { Bar } from './bars.js';
import { closeForValuation, MissingMarketData } from './valuation.js';

const bar = (date: string, close: number): Bar => ({ date, open: close, high: close, low: close, close, volume: 1 });
// Friday 2015-02-27, then a gap: the shape of issue 7's cache, which held nothing from 2015-02-27 on.
const aapl = [bar('2015-02-26', 130.41), bar('2015-02-27', 128.46), bar('2015-04-01', 124.25)];

describe('closeForValuation: a holding is valued at the close of the day it claims', () => {
  it("takes the day's own close", () => {
    expect(closeForValuation(aapl, 'AAPL', '2015-02-27')).toEqual({ close: 128.46, date: '2015-02-27' });
    expect(closeForValuation(aapl, 'AAPL', '2015-04-01')).toEqual({ close: 124.25, date: '2015-04-01' });
  });

  it("keeps the previous trading day's close for a day without a bar (a halt), and says which day it is from", () => {
    // Monday 2015-03-02: the previous trading day is Friday 2015-02-27.
    expect(closeForValuation(aapl, 'AAPL', '2015-03-02')).toEqual({ close: 128.46, date: '2015-02-27' });
  });

  it('refuses any older close: a gap in the data fails loudly, naming symbol and date', () => {
    expect(() => closeForValuation(aapl, 'AAPL', '2015-03-03')).toThrow(MissingMarketData);
    expect(() => closeForValuation(aapl, 'AAPL', '2015-03-31')).toThrow(
      'no price to value AAPL on 2015-03-31: no bar on 2015-03-31 nor on 2015-03-30, the last is from 2015-02-27',
    );
    const err = (() => {
      try {
        closeForValuation(aapl, 'AAPL', '2015-03-31');
      } catch (e) {
        return e as MissingMarketData;
      }
    })();
    expect(err).toMatchObject({ name: 'MissingMarketData', symbol: 'AAPL', date: '2015-03-31' });
  });

  it('refuses a symbol with no bars at all, or none up to the day', () => {
    expect(() => closeForValuation(undefined, 'MSFT', '2015-03-02')).toThrow('no price to value MSFT on 2015-03-02');
    expect(() => closeForValuation(aapl, 'AAPL', '2015-02-25')).toThrow('no bar on or before 2015-02-25');
  });

  it('never reads a later bar, whatever the gap', () => {
    expect(() => closeForValuation([bar('2015-03-04', 1)], 'AAPL', '2015-03-03')).toThrow(MissingMarketData);
  });
});
