import { createHash, timingSafeEqual } from 'node:crypto';
import { generateCodeVerifier, generateState } from 'arctic';
import type { Logger } from 'pino';
import type { AccountStore } from '../../../storage/accounts.js';
import type { SignInStore } from '../../../storage/signIn.js';
import { OAuthFailure, type OAuthProvider, type ProviderName } from './provider.js';

export interface OAuthSignInOptions {
  logger: Logger;
  /** How long the browser has to come back from the provider. */
  stateTtlMs?: number;
  now?: () => Date;
}

export type OAuthOutcome = { ok: true; userId: string; returnTo: string } | { ok: false; reason: string };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Sign-in through an OAuth provider, both legs. The start keeps the PKCE verifier and nonce on the server
 * under the hash of a fresh `state`, and the browser keeps the state in a cookie; the return must bring the
 * same state in the URL and in the cookie (so nobody can sign a victim into the attacker's account), once,
 * in time. The provider's account signs in as the user it was linked to, or, the first time, as the
 * enabled user with the address the provider verified; nobody gets an account by signing in.
 */
export class OAuthSignIn {
  private readonly stateTtlMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly providers: ReadonlyMap<ProviderName, OAuthProvider>,
    private readonly store: SignInStore,
    private readonly accounts: AccountStore,
    private readonly o: OAuthSignInOptions,
  ) {
    this.stateTtlMs = o.stateTtlMs ?? 10 * 60_000;
    this.now = o.now ?? (() => new Date());
  }

  configured(name: ProviderName): boolean {
    return this.providers.has(name);
  }

  /** Where to send the browser, and the state it must bring back (the caller puts it in a cookie). */
  async begin(
    name: ProviderName,
    redirectUri: string,
    returnTo: string,
  ): Promise<{ url: URL; state: string; expiresAt: Date }> {
    const provider = this.provider(name);
    const state = generateState();
    const codeVerifier = generateCodeVerifier();
    const nonce = generateState();
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.stateTtlMs);
    const url = await provider.authorizationUrl({ state, codeVerifier, nonce, redirectUri });
    await this.store.insertOAuthState({
      _id: sha256(state),
      provider: name,
      codeVerifier,
      nonce,
      redirectUri,
      returnTo,
      createdAt: now,
      expiresAt,
    });
    return { url, state, expiresAt };
  }

  /** The provider sent the browser back: whose session to open, or why none (logged, never with a secret). */
  async finish(
    name: ProviderName,
    r: { state?: string; code?: string; error?: string; cookieState?: string; ip?: string },
  ): Promise<OAuthOutcome> {
    const fail = (reason: string, email?: string): OAuthOutcome => {
      this.o.logger.warn({ provider: name, email, ip: r.ip, reason }, 'sign-in failed');
      return { ok: false, reason };
    };
    if (r.error) return fail(`the provider did not sign you in: ${r.error.slice(0, 80)}`);
    if (!r.state || !r.code) return fail('the provider sent back no code or no state');
    if (!r.cookieState || !sameText(r.cookieState, r.state)) {
      return fail('this browser did not start this sign-in (its state cookie is missing or different)');
    }
    const hash = sha256(r.state);
    const pending = await this.store.oauthState(hash);
    if (!pending || pending.provider !== name) return fail('no such sign-in under way');
    if (pending.expiresAt.getTime() <= this.now().getTime()) return fail('the sign-in took too long: start again');
    if (!(await this.store.claim(`oauth|${hash}`))) return fail('this sign-in was completed already');
    let identity: { subject: string; email: string };
    try {
      identity = await this.provider(name).identify({
        code: r.code,
        codeVerifier: pending.codeVerifier,
        nonce: pending.nonce,
        redirectUri: pending.redirectUri,
      });
    } catch (err) {
      if (err instanceof OAuthFailure) return fail(err.message);
      throw err;
    }
    const linkId = `${name}|${identity.subject}`;
    let userId = (await this.store.identity(linkId))?.userId;
    if (userId === undefined) {
      const user = await this.accounts.userByEmail(identity.email);
      if (!user) return fail(`no account has the address ${identity.email}: ask an admin for one`, identity.email);
      // Two first sign-ins of one account at once: both link it, the first link stands.
      userId = (
        await this.store.insertIdentity({ _id: linkId, userId: user._id, email: identity.email, createdAt: this.now() })
      ).userId;
      this.o.logger.info({ provider: name, userId, email: identity.email }, 'provider account linked to a user');
    }
    const user = await this.accounts.user(userId);
    if (!user || user.disabled) return fail('the user is gone or disabled', identity.email);
    this.o.logger.info({ provider: name, userId, email: identity.email, ip: r.ip }, `signed in with ${name}`);
    return { ok: true, userId, returnTo: pending.returnTo };
  }

  private provider(name: ProviderName): OAuthProvider {
    const provider = this.providers.get(name);
    if (!provider) throw new Error(`sign-in with ${name} is not configured`);
    return provider;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
