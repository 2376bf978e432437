// Which stock a chat message is about, offline: a symbol search over the symbols tradeflow knows, the
// companies its analyses name and a small built-in map of company names. Pure, so it is unit-tested.

/** Names people call companies by, for the symbols a default install trades (the NASDAQ-100's largest). */
export const COMPANY_NAMES: Readonly<Record<string, string>> = {
  apple: 'AAPL',
  microsoft: 'MSFT',
  nvidia: 'NVDA',
  amazon: 'AMZN',
  alphabet: 'GOOGL',
  google: 'GOOGL',
  meta: 'META',
  facebook: 'META',
  tesla: 'TSLA',
  broadcom: 'AVGO',
  netflix: 'NFLX',
  costco: 'COST',
  adobe: 'ADBE',
  amd: 'AMD',
  'advanced micro devices': 'AMD',
  intel: 'INTC',
  qualcomm: 'QCOM',
  cisco: 'CSCO',
  pepsico: 'PEP',
  pepsi: 'PEP',
  starbucks: 'SBUX',
  paypal: 'PYPL',
  'texas instruments': 'TXN',
  intuit: 'INTU',
  palantir: 'PLTR',
  'nasdaq-100': 'QQQ',
  'nasdaq 100': 'QQQ',
};

/** Words in capitals that are English, not tickers, unless written `$I` or named by a known company. */
const COMMON_WORDS = new Set([
  'I',
  'A',
  'AN',
  'AM',
  'AT',
  'BE',
  'DO',
  'GO',
  'IT',
  'ME',
  'MY',
  'OK',
  'ON',
  'OR',
  'SO',
  'TO',
  'US',
  'WE',
  'IS',
  'IF',
  'IN',
  'OF',
  'NO',
  'BY',
  'UP',
  'THE',
  'AND',
  'BUY',
  'SELL',
  'HOLD',
  'CEO',
  'EPS',
  'ETF',
  'USD',
  'API',
  'LLM',
  'DCF',
  'PDF',
]);

/** Tickers that are also English words: in lower case they are the word ("what does it cost"). */
const TICKER_WORDS = new Set([
  'COST',
  'TEAM',
  'FAST',
  'SHOP',
  'SNOW',
  'OPEN',
  'HOOD',
  'PLAY',
  'LIFE',
  'CASH',
  'HOME',
  'GOOD',
  'MAIN',
  'PEAK',
  'TRUE',
  'LOVE',
  'BILL',
  'ROOT',
  'FIVE',
  'WING',
  'SAVE',
  'LAND',
  'FUND',
  'TECH',
  'GAME',
  'NICE',
  'BEAM',
  'BODY',
  'BOOM',
  'CARS',
  'KIND',
  'SELF',
  'NEXT',
  'WELL',
  'REAL',
  'RACE',
  'WORK',
  'DASH',
  'ZION',
]);

export interface SymbolBook {
  /** Symbols with market data or analyses: a bare capitalised word is a ticker only if it is one of these. */
  symbols: ReadonlySet<string>;
  /** Lower-case company names to their symbol (the built-in map and the analyses' companies). */
  names: ReadonlyMap<string, string>;
}

export function symbolBook(symbols: Iterable<string>, companies: Iterable<readonly [string, string]> = []): SymbolBook {
  const names = new Map(Object.entries(COMPANY_NAMES));
  const known = new Set<string>();
  for (const s of symbols) known.add(s.toUpperCase());
  for (const [company, symbol] of companies) {
    const name = companyKey(company);
    // A company recorded as its own ticker ("AAPL") says nothing a symbol search does not.
    if (name && name.toUpperCase() !== symbol.toUpperCase() && !names.has(name)) names.set(name, symbol.toUpperCase());
    known.add(symbol.toUpperCase());
  }
  return { symbols: known, names };
}

/** "Apple Inc." -> "apple": a company's name as people say it. */
function companyKey(company: string): string {
  return company
    .toLowerCase()
    .replace(/[—–-].*$/, '')
    .replace(/[.,]/g, ' ')
    .replace(/\b(inc|incorporated|corp|corporation|co|company|ltd|plc|holdings|group|class [a-c]|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface TickerMatch {
  ticker: string;
  /** How it was found: a `$TICKER`, a known symbol, a company's name. */
  via: 'cashtag' | 'symbol' | 'name';
  /** Where in the message it was named: the earliest mention wins. */
  index: number;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The stock the message names, or null. A cashtag (`$TSLA`) is taken as written; a capitalised word
 * must be a known symbol (any case for one of four letters or more that is not also a word: "aapl", not "cost"); a company's name is
 * looked up whole-word. When several are named, the first in the message wins.
 */
export function findTicker(message: string, book: SymbolBook): TickerMatch | null {
  const found: TickerMatch[] = [];
  for (const m of message.matchAll(/\$([A-Za-z][A-Za-z0-9.]{0,9})\b/g)) {
    found.push({ ticker: m[1]!.toUpperCase(), via: 'cashtag', index: m.index });
  }
  for (const m of message.matchAll(/\b[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z])?\b/g)) {
    const word = m[0];
    const upper = word.toUpperCase();
    if (!book.symbols.has(upper)) continue;
    const written =
      word === upper
        ? !COMMON_WORDS.has(upper)
        : upper.length >= 4 && !TICKER_WORDS.has(upper) && !COMMON_WORDS.has(upper);
    if (written) found.push({ ticker: upper, via: 'symbol', index: m.index });
  }
  const lower = message.toLowerCase();
  for (const [name, ticker] of book.names) {
    const at = lower.search(new RegExp(`\\b${escapeRegExp(name)}(?:'s)?\\b`));
    if (at >= 0) found.push({ ticker, via: 'name', index: at });
  }
  if (found.length === 0) return null;
  return found.reduce((a, b) => (b.index < a.index ? b : a));
}

/** The ticker a conversation was last about: follow-ups ("and its price?") are about it. */
export function lastTicker(history: ReadonlyArray<{ role: string; ticker?: string | null }>): string | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const t = history[i]!.ticker;
    if (history[i]!.role === 'assistant' && t) return t;
  }
  return null;
}
