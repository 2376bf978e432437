// Small, dependency-free indicators over a close series (oldest first). Each returns null when the
// series is too short, so callers state "not enough history" instead of inventing a number.

export function sma(values: readonly number[], period: number): number | null {
  if (values.length < period || period <= 0) return null;
  let sum = 0;
  for (let i = values.length - period; i < values.length; i++) sum += values[i]!;
  return sum / period;
}

export function emaSeries(values: readonly number[], period: number): number[] {
  if (values.length === 0) return [];
  const k = 2 / (period + 1);
  const out: number[] = [values[0]!];
  for (let i = 1; i < values.length; i++) out.push(values[i]! * k + out[i - 1]! * (1 - k));
  return out;
}

/** Wilder's RSI. */
export function rsi(values: readonly number[], period = 14): number | null {
  if (values.length <= period) return null;
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= period; i++) {
    const d = values[i]! - values[i - 1]!;
    if (d >= 0) gain += d;
    else loss -= d;
  }
  gain /= period;
  loss /= period;
  for (let i = period + 1; i < values.length; i++) {
    const d = values[i]! - values[i - 1]!;
    gain = (gain * (period - 1) + Math.max(d, 0)) / period;
    loss = (loss * (period - 1) + Math.max(-d, 0)) / period;
  }
  if (loss === 0) return 100;
  return 100 - 100 / (1 + gain / loss);
}

export function macd(values: readonly number[]): { macd: number; signal: number; histogram: number } | null {
  if (values.length < 35) return null;
  const fast = emaSeries(values, 12);
  const slow = emaSeries(values, 26);
  const line = fast.map((f, i) => f - slow[i]!);
  const signal = emaSeries(line.slice(25), 9);
  const m = line.at(-1)!;
  const s = signal.at(-1)!;
  return { macd: m, signal: s, histogram: m - s };
}

export function dailyReturns(values: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < values.length; i++) out.push(values[i]! / values[i - 1]! - 1);
  return out;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function stdev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Annualised volatility of daily returns (252 trading days). */
export function annualVolatility(values: readonly number[]): number | null {
  const r = dailyReturns(values);
  return r.length < 20 ? null : stdev(r) * Math.sqrt(252);
}

/** Largest peak-to-trough fall, as a positive fraction. */
export function maxDrawdown(values: readonly number[]): number {
  let peak = -Infinity;
  let worst = 0;
  for (const v of values) {
    peak = Math.max(peak, v);
    worst = Math.max(worst, (peak - v) / peak);
  }
  return worst;
}

/** Beta of the asset's daily returns against the benchmark's, over dates both have. */
export function beta(asset: ReadonlyMap<string, number>, benchmark: ReadonlyMap<string, number>): number | null {
  const dates = [...asset.keys()].filter((d) => benchmark.has(d)).sort();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 1; i < dates.length; i++) {
    a.push(asset.get(dates[i]!)! / asset.get(dates[i - 1]!)! - 1);
    b.push(benchmark.get(dates[i]!)! / benchmark.get(dates[i - 1]!)! - 1);
  }
  if (a.length < 20) return null;
  const ma = mean(a);
  const mb = mean(b);
  let cov = 0;
  let varB = 0;
  for (let i = 0; i < a.length; i++) {
    cov += (a[i]! - ma) * (b[i]! - mb);
    varB += (b[i]! - mb) ** 2;
  }
  return varB === 0 ? null : cov / varB;
}

export function pctChange(values: readonly number[], lookback: number): number | null {
  if (values.length <= lookback) return null;
  return values.at(-1)! / values[values.length - 1 - lookback]! - 1;
}
