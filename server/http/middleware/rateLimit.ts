import type { Context } from 'hono';
import { ApiError } from '../errors.js';

/**
 * A fixed-window counter per key (an API key, a user, an address). In memory: each API instance counts
 * its own requests, so N replicas allow up to N times the limit; that bounds abuse, which is its purpose.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    /** The policy's name in the `RateLimit` and `RateLimit-Policy` headers. */
    readonly name: string,
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request; whether it is allowed, what is left and when the window resets. */
  take(key: string): { allowed: boolean; remaining: number; resetS: number } {
    const w = this.current(key);
    w.count += 1;
    return this.state(w);
  }

  /** The window's state without counting: allowed while some of the limit is left. */
  peek(key: string): { allowed: boolean; remaining: number; resetS: number } {
    const w = this.windows.get(key);
    if (!w || this.now() - w.start >= this.windowMs) return { allowed: true, remaining: this.limit, resetS: 0 };
    const s = this.state(w);
    return { ...s, allowed: s.remaining > 0 };
  }

  private current(key: string) {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size >= 100_000) this.sweep(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    return w;
  }

  private state(w: { start: number; count: number }) {
    return {
      allowed: w.count <= this.limit,
      remaining: Math.max(0, this.limit - w.count),
      resetS: Math.max(1, Math.ceil((w.start + this.windowMs - this.now()) / 1000)),
    };
  }

  private sweep(now: number) {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    // Still full of live windows (an address flood): forget them all rather than grow without bound.
    if (this.windows.size >= 100_000) this.windows.clear();
  }
}

/**
 * Counts the request against `limiter` and says so in the standard headers (IETF draft
 * `RateLimit`/`RateLimit-Policy`, one item per policy that applied); over the limit: 429 with `Retry-After`.
 */
export function enforce(c: Context, limiter: RateLimiter, key: string, what: string, count = true): void {
  const s = count ? limiter.take(key) : limiter.peek(key);
  const w = Math.round(limiter.windowMs / 1000);
  c.header('RateLimit-Policy', `"${limiter.name}";q=${limiter.limit};w=${w}`, { append: true });
  c.header('RateLimit', `"${limiter.name}";r=${s.remaining};t=${s.resetS}`, { append: true });
  if (!s.allowed) {
    throw new ApiError(
      'rate_limited',
      `too many requests ${what}: at most ${limiter.limit} every ${w} s; try again in ${s.resetS} s`,
      { retry_after_s: s.resetS },
      { 'Retry-After': String(s.resetS) },
    );
  }
}
