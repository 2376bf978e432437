/**
 * Welford's running mean and sample variance: the independent side of the metric tests, which the
 * modules under test (two-pass sums) do not share.
 */
export function welford(xs: readonly number[]): { mean: number; variance: number; n: number } {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  for (const x of xs) {
    n += 1;
    const d = x - mean;
    mean += d / n;
    m2 += d * (x - mean);
  }
  return { mean, variance: m2 / (n - 1), n };
}
