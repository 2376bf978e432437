export interface ResponseCacheLimits {
  /** How many answers are kept at most. */
  maxEntries: number;
  /** An answer larger than this (as JSON) is sent, but not kept. */
  maxEntryBytes: number;
  /** What all kept answers may weigh together (as JSON); the oldest go first beyond it. */
  maxTotalBytes: number;
}

const DEFAULT_LIMITS: ResponseCacheLimits = {
  maxEntries: 500,
  maxEntryBytes: 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
};

interface Entry<T> {
  at: number;
  ttlMs: number;
  value: Promise<T>;
  /** Its size as JSON once it has settled (0 while it is being computed). */
  bytes: number;
}

/**
 * Answers computed once and shared, per key, for a short while: many clients polling the same job or
 * the same results cost the database one computation per interval, not one per client. An entry whose
 * answer failed is dropped at once. What the cache holds is bounded in count and in bytes, per entry and
 * in total: the oldest entries go first beyond either bound, and an answer too large to keep is not kept.
 */
export class ResponseCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly limits: ResponseCacheLimits;
  /** What the settled answers kept weigh, as JSON. */
  bytes = 0;

  constructor(limits: Partial<ResponseCacheLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, ttlMs: number, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < hit.ttlMs) return hit.value;
    const value = compute();
    this.remove(key);
    const entry: Entry<T> = { at: now, ttlMs, value, bytes: 0 };
    this.entries.set(key, entry);
    value.then(
      (answer) => {
        if (this.entries.get(key) !== entry) return;
        const bytes = sizeOf(answer);
        if (bytes > this.limits.maxEntryBytes) {
          this.remove(key);
          return;
        }
        entry.bytes = bytes;
        this.bytes += bytes;
        this.evict();
      },
      () => {
        if (this.entries.get(key) === entry) this.remove(key);
      },
    );
    this.evict();
    return value;
  }

  private remove(key: string) {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.bytes;
    this.entries.delete(key);
  }

  private evict() {
    while (this.entries.size > this.limits.maxEntries || this.bytes > this.limits.maxTotalBytes) {
      this.remove(this.entries.keys().next().value!);
    }
  }
}

/** An answer's weight as the JSON it is sent as; one that cannot be serialized is not worth keeping. */
function sizeOf(answer: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(answer) ?? '');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
