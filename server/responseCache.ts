/**
 * Answers computed once and shared, per key, for a short while: many clients polling the same job or
 * the same results cost the database one computation per interval, not one per client. An entry whose
 * answer failed is dropped at once. The oldest entries go first beyond `maxEntries`.
 */
export class ResponseCache<T> {
  private readonly entries = new Map<string, { at: number; ttlMs: number; value: Promise<T> }>();

  constructor(private readonly maxEntries = 500) {}

  get(key: string, ttlMs: number, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < hit.ttlMs) return hit.value;
    const value = compute();
    this.entries.delete(key);
    this.entries.set(key, { at: now, ttlMs, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
