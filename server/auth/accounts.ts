import type { Logger } from 'pino';
import type { AccountStore, ApiKeyDoc, Role, Scope, UserDoc } from '../../storage/accounts.js';
import { ApiError } from '../http/errors.js';
import { hashApiKey, looksLikeApiKey, newApiKey, newUserId, sameHash } from './keys.js';
import type { Principal } from './principal.js';

export type Authentication = { ok: true; principal: Principal } | { ok: false; reason: string };

export interface AccountsOptions {
  logger: Logger;
  /**
   * How long a key's check is reused in this process. Revoking, disabling or deleting through this process
   * takes effect at once; through another replica, within this long.
   */
  cacheMs?: number;
  /** Last-used times are written at most this often per key (a write per request would double the load). */
  touchEveryMs?: number;
  /** How long a key checked good stays good while the database cannot be asked. */
  staleIfErrorMs?: number;
  now?: () => Date;
}

/** Users and API keys: creation, the check of a presented key, revocation. */
export class Accounts {
  private readonly cache = new Map<string, { at: number; result: Authentication }>();
  private readonly touched = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly touchEveryMs: number;
  private readonly staleIfErrorMs: number;
  private readonly now: () => Date;

  constructor(
    readonly store: AccountStore,
    private readonly o: AccountsOptions,
  ) {
    this.cacheMs = o.cacheMs ?? 1_000;
    this.touchEveryMs = o.touchEveryMs ?? 60_000;
    this.staleIfErrorMs = o.staleIfErrorMs ?? 5 * 60_000;
    this.now = o.now ?? (() => new Date());
  }

  async createUser(email: string, role: Role, userId = newUserId()): Promise<UserDoc> {
    const user: UserDoc = { _id: userId, email: email.toLowerCase(), role, createdAt: this.now() };
    const outcome = await this.store.insertUser(user);
    if (outcome === 'email_taken') throw new ApiError('email_taken', `a user with address ${user.email} exists`);
    if (outcome === 'id_taken') throw new ApiError('conflict', `a user with id ${userId} exists`);
    this.o.logger.info({ userId, role }, 'user created');
    return user;
  }

  /** A new key for the user: the key itself is in the answer and nowhere else, ever. */
  async createKey(
    userId: string,
    o: { scopes: readonly Scope[]; expiresAt?: Date; name?: string },
  ): Promise<{ key: string; doc: ApiKeyDoc }> {
    const user = await this.store.user(userId);
    if (!user) throw new ApiError('not_found', `no user ${userId}`);
    if (o.scopes.includes('admin') && user.role !== 'admin') {
      throw new ApiError('validation_error', `user ${userId} is not an admin: its keys cannot have the admin scope`);
    }
    if (o.expiresAt && o.expiresAt.getTime() <= this.now().getTime()) {
      throw new ApiError('validation_error', 'expires_at is in the past');
    }
    const { key, hash, keyId, prefix } = newApiKey();
    const doc: ApiKeyDoc = {
      _id: hash,
      keyId,
      userId,
      scopes: [...new Set(o.scopes)],
      prefix,
      createdAt: this.now(),
      ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
      ...(o.name ? { name: o.name } : {}),
    };
    await this.store.insertKey(doc);
    this.o.logger.info({ userId, keyId, scopes: doc.scopes }, 'API key created');
    return { key, doc };
  }

  async revokeKey(userId: string, keyId: string): Promise<boolean> {
    const found = await this.store.revokeKey(userId, keyId, this.now());
    this.cache.clear();
    if (found) this.o.logger.info({ userId, keyId }, 'API key revoked');
    return found;
  }

  async setDisabled(userId: string, disabled: boolean): Promise<boolean> {
    const found = await this.store.setDisabled(userId, disabled);
    this.cache.clear();
    if (found) this.o.logger.info({ userId, disabled }, disabled ? 'user disabled' : 'user enabled');
    return found;
  }

  async deleteUser(userId: string): Promise<boolean> {
    const found = await this.store.deleteUser(userId);
    this.cache.clear();
    if (found) this.o.logger.info({ userId }, 'user deleted');
    return found;
  }

  /** Who a presented bearer key acts as, or why it does not. The reason never repeats the key. */
  async authenticate(key: string): Promise<Authentication> {
    if (!looksLikeApiKey(key)) return { ok: false, reason: 'not a tradeflow API key' };
    const hash = hashApiKey(key);
    const now = Date.now();
    const cached = this.cache.get(hash);
    let result: Authentication;
    if (cached && now - cached.at < this.cacheMs) {
      result = cached.result;
    } else {
      try {
        result = await this.check(hash);
      } catch (err) {
        // The database is down or frozen: a key that was good a moment ago stays good for a while (nothing
        // can revoke it meanwhile: the admin API needs the database too); routes that need it answer 503.
        if (cached?.result.ok && now - cached.at < this.staleIfErrorMs) return cached.result;
        throw err;
      }
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, { at: now, result });
    }
    if (result.ok) this.touch(hash, now);
    return result;
  }

  private async check(hash: string): Promise<Authentication> {
    const doc = await this.store.keyByHash(hash);
    if (!doc || !sameHash(doc._id, hash)) return { ok: false, reason: 'unknown API key' };
    if (doc.revokedAt) return { ok: false, reason: `API key ${doc.keyId} was revoked` };
    if (doc.expiresAt && doc.expiresAt.getTime() <= this.now().getTime()) {
      return { ok: false, reason: `API key ${doc.keyId} expired` };
    }
    const user = await this.store.user(doc.userId);
    if (!user) return { ok: false, reason: `API key ${doc.keyId}'s user no longer exists` };
    if (user.disabled) return { ok: false, reason: `user ${user._id} is disabled` };
    // A key never holds more than its user may: the admin scope needs an admin.
    const scopes = new Set(doc.scopes.filter((s) => s !== 'admin' || user.role === 'admin'));
    const admin = scopes.has('admin');
    if (admin) {
      scopes.add('read');
      scopes.add('run');
    }
    return { ok: true, principal: { userId: user._id, via: 'api_key', scopes, keyId: doc.keyId, admin } };
  }

  private touch(hash: string, now: number) {
    const last = this.touched.get(hash);
    if (last !== undefined && now - last < this.touchEveryMs) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(hash, now);
    this.store.touchKey(hash, new Date(now)).catch((err: Error) => {
      this.o.logger.warn({ err: err.message }, 'could not record an API key use');
    });
  }
}
