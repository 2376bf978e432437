/**
 * Model-versus-model comparison with confidence: the difference of two Sharpe ratios, and a bootstrap
 * interval for it from resampling the same days for both (a paired bootstrap keeps the models' daily
 * co-movement: both traded the same market). Pure and seeded, so a comparison answers the same twice.
 */

export interface SharpeDifference {
  /** Annualized Sharpe of `a` minus that of `b`. */
  difference: number;
  low: number;
  high: number;
  confidence: number;
  resamples: number;
}

export interface CompareOptions {
  periodsPerYear: number;
  /** Default 2,000. */
  resamples?: number;
  /** Default 0.95. */
  confidence?: number;
  /** Default 1: the same answer for the same series. */
  seed?: number;
}

/** A small seeded generator (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Annualized Sharpe ratio of per-period returns (no risk-free rate); null without spread. */
export function sharpeOf(r: readonly number[], periodsPerYear: number): number | null {
  if (r.length < 2) return null;
  const m = r.reduce((a, b) => a + b, 0) / r.length;
  const v = r.reduce((a, x) => a + (x - m) ** 2, 0) / (r.length - 1);
  return v > 0 ? (m / Math.sqrt(v)) * Math.sqrt(periodsPerYear) : null;
}

/** The quantile `q` of sorted values, linearly interpolated (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function sharpeDifference(
  a: readonly number[],
  b: readonly number[],
  o: CompareOptions,
): SharpeDifference | null {
  if (a.length !== b.length) throw new RangeError(`the two series have ${a.length} and ${b.length} returns`);
  const sa = sharpeOf(a, o.periodsPerYear);
  const sb = sharpeOf(b, o.periodsPerYear);
  if (sa === null || sb === null) return null;
  const resamples = o.resamples ?? 2_000;
  const confidence = o.confidence ?? 0.95;
  const random = seededRandom(o.seed ?? 1);
  const n = a.length;
  const diffs: number[] = [];
  const ra = new Array<number>(n);
  const rb = new Array<number>(n);
  for (let k = 0; k < resamples; k++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(random() * n);
      ra[i] = a[j]!;
      rb[i] = b[j]!;
    }
    const x = sharpeOf(ra, o.periodsPerYear);
    const y = sharpeOf(rb, o.periodsPerYear);
    if (x !== null && y !== null) diffs.push(x - y);
  }
  diffs.sort((p, q) => p - q);
  const tail = (1 - confidence) / 2;
  return {
    difference: sa - sb,
    low: diffs.length ? quantile(diffs, tail) : sa - sb,
    high: diffs.length ? quantile(diffs, 1 - tail) : sa - sb,
    confidence,
    resamples: diffs.length,
  };
}

export interface ModelComparison {
  model: string;
  rank: number;
  sharpe: number | null;
  /** Against the best model by Sharpe (null for the best itself). */
  versusBest: SharpeDifference | null;
  versusBenchmark: SharpeDifference | null;
}

/** Ranks models by Sharpe ratio, each with its interval against the best and against the benchmark. */
export function compareModels(
  returns: ReadonlyMap<string, readonly number[]>,
  o: CompareOptions & { benchmark?: readonly number[] },
): ModelComparison[] {
  const ranked = [...returns]
    .map(([model, r]) => ({ model, r, sharpe: sharpeOf(r, o.periodsPerYear) }))
    .sort((x, y) => (y.sharpe ?? Number.NEGATIVE_INFINITY) - (x.sharpe ?? Number.NEGATIVE_INFINITY));
  const best = ranked[0];
  return ranked.map((m, i) => ({
    model: m.model,
    rank: i + 1,
    sharpe: m.sharpe,
    versusBest: i === 0 || !best ? null : sharpeDifference(m.r, best.r, o),
    versusBenchmark: o.benchmark ? sharpeDifference(m.r, o.benchmark, o) : null,
  }));
}
