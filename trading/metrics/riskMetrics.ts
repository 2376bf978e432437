/**
 * The risk metrics of a value series, optionally against a benchmark: pure, one formula each, defined as
 * quantstats and LEAN define them (the README's "Metrics" section writes each out). Returns are simple
 * per-period returns r_t = V_t / V_{t-1} - 1, the first from the series' starting value; `periodsPerYear`
 * annualizes (252 for daily bars, 252 × 6 for AI-Trader's six hourly bars a day).
 */

export interface ValuePoint {
  date: string;
  value: number;
}

export interface RiskMetricOptions {
  /** Value before the first point (the first return is against it); default: the first point's value. */
  startValue?: number;
  periodsPerYear: number;
  /** Annual risk-free rate, as a fraction (default 0). */
  riskFreeRate?: number;
  /** The benchmark's values on the same dates (alpha, beta, tracking error, information ratio). */
  benchmark?: { startValue?: number; points: readonly ValuePoint[] };
}

export interface Drawdown {
  /** The largest fall from a peak, as a negative fraction (0: never below a peak). */
  depth: number;
  peakDate: string | null;
  troughDate: string | null;
  /** The first date back at the peak's value; null: not recovered by the end. */
  recoveryDate: string | null;
  /** Periods from the peak to the recovery (or to the end when not recovered). */
  durationPeriods: number;
}

export interface RiskMetrics {
  periods: number;
  totalReturn: number;
  annualizedReturn: number | null;
  volatility: number | null;
  sharpe: number | null;
  sortino: number | null;
  calmar: number | null;
  maxDrawdown: Drawdown;
  winRate: number | null;
  profitFactor: number | null;
  /** Probability that the true Sharpe ratio is above 0 (Bailey and López de Prado, 2012). */
  probabilisticSharpe: number | null;
  alpha: number | null;
  beta: number | null;
  trackingError: number | null;
  informationRatio: number | null;
}

export function returnsOf(points: readonly ValuePoint[], startValue?: number): number[] {
  const out: number[] = [];
  let previous = startValue ?? points[0]?.value;
  const from = startValue === undefined ? 1 : 0;
  for (let i = from; i < points.length; i++) {
    const v = points[i]!.value;
    out.push(previous ? v / previous - 1 : 0);
    previous = v;
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n − 1), as pandas' `std` that quantstats uses. */
function stdev(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
function covariance(xs: readonly number[], ys: readonly number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  return xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / (xs.length - 1);
}

/** The normal distribution's CDF, to double precision (Hart 1968, as given by West, "Better approximations
 * to cumulative normal functions", 2005). */
export function normalCdf(x: number): number {
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) {
    tail = 0;
  } else if (z < 7.07106781186547) {
    const e = Math.exp(-(z * z) / 2);
    let num = 3.52624965998911e-2 * z + 0.700383064443688;
    for (const c of [6.37396220353165, 33.912866078383, 112.079291497871, 221.213596169931, 220.206867912376]) {
      num = num * z + c;
    }
    let den = 8.83883476483184e-2 * z + 1.75566716318264;
    for (const c of [
      16.064177579207, 86.7807322029461, 296.564248779674, 637.333633378831, 793.826512519948, 440.413735824752,
    ]) {
      den = den * z + c;
    }
    tail = (e * num) / den;
  } else {
    const e = Math.exp(-(z * z) / 2);
    let b = z + 0.65;
    for (const k of [4, 3, 2, 1]) b = z + k / b;
    tail = e / b / 2.506628274631;
  }
  return x > 0 ? 1 - tail : tail;
}

export function maxDrawdownOf(points: readonly ValuePoint[], startValue?: number): Drawdown {
  let peak = startValue ?? points[0]?.value ?? 0;
  let peakDate: string | null = null;
  let peakIndex = -1;
  let worst: Drawdown = { depth: 0, peakDate: null, troughDate: null, recoveryDate: null, durationPeriods: 0 };
  let worstPeakIndex = -1;
  points.forEach((p, i) => {
    if (p.value >= peak) {
      peak = p.value;
      peakDate = p.date;
      peakIndex = i;
      return;
    }
    const depth = p.value / peak - 1;
    if (depth < worst.depth) {
      worst = { depth, peakDate, troughDate: p.date, recoveryDate: null, durationPeriods: 0 };
      worstPeakIndex = peakIndex;
    }
  });
  if (worst.troughDate === null) return worst;
  const trough = points.findIndex((p) => p.date === worst.troughDate);
  const peakValue = worstPeakIndex >= 0 ? points[worstPeakIndex]!.value : (startValue ?? points[0]!.value);
  const recovered = points.findIndex((p, i) => i > trough && p.value >= peakValue);
  const end = recovered === -1 ? points.length - 1 : recovered;
  return {
    ...worst,
    recoveryDate: recovered === -1 ? null : points[recovered]!.date,
    durationPeriods: end - worstPeakIndex,
  };
}

export function riskMetrics(points: readonly ValuePoint[], o: RiskMetricOptions): RiskMetrics {
  const P = o.periodsPerYear;
  const r = returnsOf(points, o.startValue);
  const n = r.length;
  const first = o.startValue ?? points[0]?.value ?? 0;
  const last = points.at(-1)?.value ?? first;
  const totalReturn = first ? last / first - 1 : 0;
  const annualizedReturn = n > 0 && first > 0 && last > 0 ? (1 + totalReturn) ** (P / n) - 1 : null;
  const sd = stdev(r);
  const rfPerPeriod = (o.riskFreeRate ?? 0) / P;
  const excess = r.map((x) => x - rfPerPeriod);
  const sharpePerPeriod = sd ? mean(excess) / sd : null;
  const downside = n > 0 ? Math.sqrt(r.reduce((a, x) => a + Math.min(x, 0) ** 2, 0) / n) : 0;
  const maxDrawdown = maxDrawdownOf(points, o.startValue);
  const wins = r.filter((x) => x > 0);
  const losses = r.filter((x) => x < 0);
  const lossSum = -losses.reduce((a, b) => a + b, 0);

  let alpha: number | null = null;
  let beta: number | null = null;
  let trackingError: number | null = null;
  let informationRatio: number | null = null;
  if (o.benchmark) {
    const b = returnsOf(o.benchmark.points, o.benchmark.startValue);
    if (b.length !== n) throw new RangeError(`the benchmark has ${b.length} returns, the series ${n}`);
    const varB = n > 1 ? covariance(b, b) : 0;
    if (varB > 0) {
      beta = covariance(r, b) / varB;
      alpha = (mean(r) - beta * mean(b)) * P;
    }
    const active = r.map((x, i) => x - b[i]!);
    const sdActive = stdev(active);
    if (sdActive !== null) {
      trackingError = sdActive * Math.sqrt(P);
      informationRatio = sdActive > 0 ? (mean(active) / sdActive) * Math.sqrt(P) : null;
    }
  }

  return {
    periods: n,
    totalReturn,
    annualizedReturn,
    volatility: sd === null ? null : sd * Math.sqrt(P),
    sharpe: sharpePerPeriod === null ? null : sharpePerPeriod * Math.sqrt(P),
    sortino: downside > 0 ? (mean(excess) / downside) * Math.sqrt(P) : null,
    calmar: annualizedReturn !== null && maxDrawdown.depth < 0 ? annualizedReturn / -maxDrawdown.depth : null,
    maxDrawdown,
    winRate: wins.length + losses.length > 0 ? wins.length / (wins.length + losses.length) : null,
    profitFactor: lossSum > 0 ? wins.reduce((a, b) => a + b, 0) / lossSum : null,
    probabilisticSharpe: sharpePerPeriod === null || n < 3 ? null : psr(r, sharpePerPeriod),
    alpha,
    beta,
    trackingError,
    informationRatio,
  };
}

/** PSR against a Sharpe ratio of 0, on the per-period Sharpe ratio with the returns' skew and kurtosis. */
function psr(r: readonly number[], sr: number): number | null {
  const n = r.length;
  const m = mean(r);
  const m2 = r.reduce((a, x) => a + (x - m) ** 2, 0) / n;
  if (m2 === 0) return null;
  const skew = r.reduce((a, x) => a + (x - m) ** 3, 0) / n / m2 ** 1.5;
  const kurtosis = r.reduce((a, x) => a + (x - m) ** 4, 0) / n / m2 ** 2;
  const denominator = 1 - skew * sr + ((kurtosis - 1) / 4) * sr * sr;
  if (denominator <= 0) return null;
  return normalCdf((sr * Math.sqrt(n - 1)) / Math.sqrt(denominator));
}
