import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Every tradeflow API key starts so (secret scanners and people can tell one when they see it). */
export const KEY_PREFIX = 'tf_';
/** `tf_` and 32 random bytes in base64url: 256 bits, so one SHA-256 (no slow hash) is enough to store it. */
const KEY_SHAPE = /^tf_[A-Za-z0-9_-]{43}$/;

export function newApiKey(): { key: string; hash: string; keyId: string; prefix: string } {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), keyId: `key_${randomBytes(8).toString('hex')}`, prefix: key.slice(0, 7) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Whether a presented string could be a key at all (anything else is refused without a look-up). */
export function looksLikeApiKey(s: string): boolean {
  return KEY_SHAPE.test(s);
}

/** The stored hash against the presented key's, in constant time (the look-up by `_id` already matched it). */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function newUserId(): string {
  return `usr_${randomBytes(8).toString('hex')}`;
}
