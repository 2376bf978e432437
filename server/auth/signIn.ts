import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { AccountStore } from '../../storage/accounts.js';
import type { SessionDoc, SignInMethod, SignInStore } from '../../storage/signIn.js';
import type { Principal } from './principal.js';

/** Sends a sign-in code (server/auth/mailer.ts). */
export interface CodeMailer {
  send(to: string, code: string, expiresAt: Date): Promise<void>;
}

export interface SignInOptions {
  logger: Logger;
  mailer: CodeMailer;
  codeTtlMs?: number;
  /** Wrong codes one code survives. */
  attemptsPerCode?: number;
  /** Codes one address may ask for in an hour. */
  codesPerAddressHour?: number;
  sessionTtlMs: number;
  now?: () => Date;
}

export type SignInFailure = { ok: false; reason: string; status: 401 | 429 };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const codeHash = (requestId: string, code: string) => sha256(`${requestId}:${code}`);

/** Email codes (6 digits, 10 minutes, single use, a few attempts) and the server-side sessions they open. */
export class SignIn {
  private readonly codeTtlMs: number;
  private readonly attemptsPerCode: number;
  private readonly codesPerAddressHour: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: SignInStore,
    private readonly accounts: AccountStore,
    private readonly o: SignInOptions,
  ) {
    this.codeTtlMs = o.codeTtlMs ?? 10 * 60_000;
    this.attemptsPerCode = o.attemptsPerCode ?? 5;
    this.codesPerAddressHour = o.codesPerAddressHour ?? 5;
    this.now = o.now ?? (() => new Date());
  }

  /**
   * Sends a code to `email` when it is an enabled user's. The answer is the same either way (who has an
   * account is nobody's business); only the count of requests per address per hour can refuse it.
   */
  async start(
    rawEmail: string,
    ip: string | undefined,
  ): Promise<{ ok: true; requestId: string; expiresAt: Date } | SignInFailure> {
    const email = rawEmail.toLowerCase();
    const now = this.now();
    const hour = Math.floor(now.getTime() / 3_600_000);
    if (!(await this.firstFree(`request|${email}|${hour}`, this.codesPerAddressHour))) {
      this.o.logger.warn({ email, ip, reason: 'too many codes asked for this address this hour' }, 'sign-in refused');
      return { ok: false, reason: 'too many codes asked for this address: try again within the hour', status: 429 };
    }
    const requestId = `sir_${randomBytes(16).toString('hex')}`;
    const expiresAt = new Date(now.getTime() + this.codeTtlMs);
    const user = await this.accounts.userByEmail(email);
    if (!user || user.disabled) {
      this.o.logger.warn({ email, ip, reason: user ? 'user disabled' : 'no such user' }, 'sign-in code not sent');
      return { ok: true, requestId, expiresAt };
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await this.store.insertCode({ _id: requestId, email, hash: codeHash(requestId, code), createdAt: now, expiresAt });
    await this.o.mailer.send(email, code, expiresAt);
    this.o.logger.info({ email, ip, requestId }, 'sign-in code sent');
    return { ok: true, requestId, expiresAt };
  }

  /** Checks a code: its user's id, or why not (the reason is logged with the address, never the code). */
  async verify(
    requestId: string,
    code: string,
    ip: string | undefined,
  ): Promise<{ ok: true; userId: string } | SignInFailure> {
    const fail = (reason: string, email?: string, status: 401 | 429 = 401): SignInFailure => {
      this.o.logger.warn({ email, ip, requestId: requestId.slice(0, 50), reason }, 'sign-in failed');
      return { ok: false, reason, status };
    };
    const doc = /^sir_[0-9a-f]{32}$/.test(requestId) ? await this.store.code(requestId) : null;
    if (!doc) return fail('no such sign-in request');
    if (doc.expiresAt.getTime() <= this.now().getTime()) return fail('the code expired', doc.email);
    if (!(await this.firstFree(`attempt|${requestId}`, this.attemptsPerCode))) {
      return fail('too many attempts with this code: ask for a new one', doc.email, 429);
    }
    const given = Buffer.from(codeHash(requestId, code), 'hex');
    if (!timingSafeEqual(given, Buffer.from(doc.hash, 'hex'))) return fail('wrong code', doc.email);
    if (!(await this.store.claim(`used|${requestId}`))) return fail('the code was used already', doc.email);
    const user = await this.accounts.userByEmail(doc.email);
    if (!user || user.disabled) return fail('the user is gone or disabled', doc.email);
    this.o.logger.info({ email: doc.email, ip, userId: user._id }, 'signed in with an email code');
    return { ok: true, userId: user._id };
  }

  /** A new session (a new token at every sign-in); `previous` (the cookie it came with) ends. */
  async openSession(userId: string, via: SignInMethod, previous?: string): Promise<{ token: string; expiresAt: Date }> {
    if (previous) await this.store.deleteSession(sha256(previous));
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.o.sessionTtlMs);
    await this.store.insertSession({ _id: sha256(token), userId, createdAt: now, expiresAt, via });
    return { token, expiresAt };
  }

  /**
   * A user's live sessions. A session is named by the first 16 hex digits of its token's hash: enough to
   * tell one from another and revoke it, of no use for signing in.
   */
  async sessionsOf(userId: string): Promise<Array<{ id: string; session: SessionDoc }>> {
    const now = this.now();
    const epoch = await this.store.epoch(userId);
    return (await this.store.sessionsOf(userId, now))
      .filter((d) => !epoch || d.createdAt.getTime() > epoch.getTime())
      .map((session) => ({ id: session._id.slice(0, 16), session }));
  }

  /** Ends the user's session named `id` (see sessionsOf); false when there is none. */
  async revokeSession(userId: string, id: string): Promise<boolean> {
    if (!/^[0-9a-f]{16}$/.test(id)) return false;
    const found = (await this.store.sessionsOf(userId, this.now())).find((d) => d._id.startsWith(id));
    if (!found) return false;
    await this.store.deleteSession(found._id);
    this.o.logger.info({ userId, session: id }, 'session revoked');
    return true;
  }

  /** Who a session cookie acts as, or null (unknown, expired, signed out everywhere, user gone or disabled). */
  async session(token: string): Promise<Principal | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const doc = await this.store.session(sha256(token));
    if (!doc || doc.expiresAt.getTime() <= this.now().getTime()) return null;
    const [user, epoch] = await Promise.all([this.accounts.user(doc.userId), this.store.epoch(doc.userId)]);
    if (!user || user.disabled) return null;
    // Opened at or before the last "sign out everywhere": over.
    if (epoch && doc.createdAt.getTime() <= epoch.getTime()) return null;
    const admin = user.role === 'admin';
    return {
      userId: user._id,
      via: 'session',
      scopes: new Set(admin ? ['read', 'run', 'admin'] : ['read', 'run']),
      admin,
    };
  }

  async closeSession(token: string): Promise<void> {
    await this.store.deleteSession(sha256(token));
  }

  /** Every session of the user opened until now ends. */
  async closeAll(userId: string): Promise<void> {
    await this.store.setEpoch(userId, this.now());
  }

  /** Takes the first of `limit` markers `prefix|1…limit`; false when all are taken. */
  private async firstFree(prefix: string, limit: number): Promise<boolean> {
    for (let n = 1; n <= limit; n++) if (await this.store.claim(`${prefix}|${n}`)) return true;
    return false;
  }
}
