import { describe, expect, it } from 'vitest';
import { findTicker, lastTicker, symbolBook } from './tickers.js';

const book = symbolBook(
  ['COST', 'AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'QQQ', 'A', 'IT'],
  [
    ['Apple Inc. — Zürich desk', 'AAPL'],
    ['Palantir Technologies', 'PLTR'],
    ['ZZZZ', 'ZZZZ'],
  ],
);
const ticker = (m: string) => findTicker(m, book)?.ticker ?? null;

describe('findTicker', () => {
  it('finds a company by the name people call it', () => {
    expect(ticker('What do you think of Apple?')).toBe('AAPL');
    expect(ticker("how is nvidia's run going")).toBe('NVDA');
    expect(ticker('Is Google cheap now?')).toBe('GOOGL');
  });

  it('finds a known symbol, in capitals or (four letters or more, not a word) in any case', () => {
    expect(ticker('MSFT after earnings?')).toBe('MSFT');
    expect(ticker('thoughts on tsla')).toBe('TSLA');
    expect(ticker('thoughts on COST')).toBe('COST');
    expect(ticker('what does it cost')).toBeNull();
  });

  it('takes a cashtag as written, known or not', () => {
    expect(ticker('and $pltr?')).toBe('PLTR');
    expect(ticker('what about $XYZ')).toBe('XYZ');
  });

  it('does not take English words for tickers', () => {
    expect(ticker('Is it a good time to buy? I am not sure')).toBeNull();
    expect(ticker('what is the weather')).toBeNull();
    expect(ticker('')).toBeNull();
  });

  it("learns companies from the user's analyses", () => {
    expect(ticker('how is palantir doing')).toBe('PLTR');
    expect(ticker('ZZZZ please')).toBe('ZZZZ');
  });

  it('takes the first stock the message names', () => {
    expect(ticker('Apple or Microsoft?')).toBe('AAPL');
    expect(ticker('MSFT or Apple?')).toBe('MSFT');
  });

  it('does not match a name inside another word', () => {
    expect(ticker('pineapple prices')).toBeNull();
    expect(ticker('metadata')).toBeNull();
  });
});

describe('lastTicker', () => {
  it("is the last answer's ticker, for follow-ups", () => {
    expect(
      lastTicker([
        { role: 'user', ticker: null },
        { role: 'assistant', ticker: 'AAPL' },
        { role: 'user' },
        { role: 'assistant', ticker: null },
      ]),
    ).toBe('AAPL');
    expect(lastTicker([])).toBeNull();
  });
});
