import { CodeChallengeMethod, OAuth2Client } from 'arctic';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { isLoopbackHost, type OpenIdSettings } from '../../../config/settings.js';
import { verifyIdToken } from './idToken.js';
import {
  type AuthorizationRequest,
  describeProviderError,
  type ExternalIdentity,
  OAuthFailure,
  type OAuthProvider,
  type ProviderName,
} from './provider.js';

interface Discovery {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  keys: JWTVerifyGetKey;
}

const FETCH_TIMEOUT_MS = 10_000;

/**
 * Sign-in with an OpenID Connect provider (Google by default, any issuer by setting): its endpoints come
 * from the issuer's discovery document, the code is redeemed with PKCE (S256), and the ID token is checked
 * against the issuer's published keys, our client id and the nonce this sign-in sent.
 */
export class OpenIdProvider implements OAuthProvider {
  private discovery: Promise<Discovery> | undefined;

  constructor(
    readonly name: ProviderName,
    private readonly o: OpenIdSettings,
  ) {}

  async authorizationUrl(r: AuthorizationRequest): Promise<URL> {
    const { authorizationEndpoint } = await this.discover();
    const url = this.client(r.redirectUri).createAuthorizationURLWithPKCE(
      authorizationEndpoint,
      r.state,
      CodeChallengeMethod.S256,
      r.codeVerifier,
      ['openid', 'email'],
    );
    url.searchParams.set('nonce', r.nonce);
    return url;
  }

  async identify(r: {
    code: string;
    codeVerifier: string;
    nonce: string;
    redirectUri: string;
  }): Promise<ExternalIdentity> {
    const { tokenEndpoint, keys } = await this.discover();
    let idToken: string;
    try {
      const tokens = await this.client(r.redirectUri).validateAuthorizationCode(tokenEndpoint, r.code, r.codeVerifier);
      idToken = tokens.idToken();
    } catch (err) {
      throw new OAuthFailure(describeProviderError(err));
    }
    return verifyIdToken(idToken, keys, { issuer: this.o.issuer, audience: this.o.clientId, nonce: r.nonce });
  }

  private client(redirectUri: string) {
    return new OAuth2Client(this.o.clientId, this.o.clientSecret, redirectUri);
  }

  /** Read once and kept; a failed read is tried again at the next sign-in. */
  private discover(): Promise<Discovery> {
    this.discovery ??= readDiscovery(this.o.issuer).catch((err) => {
      this.discovery = undefined;
      throw err;
    });
    return this.discovery;
  }
}

async function readDiscovery(issuer: string): Promise<Discovery> {
  const where = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let doc: Record<string, unknown>;
  try {
    const res = await fetch(where, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    doc = (await res.json()) as Record<string, unknown>;
  } catch (err) {
    throw new OAuthFailure(
      `the OpenID provider ${issuer} could not be asked for its settings: ${(err as Error).message}`,
    );
  }
  // The document must be the issuer's own (Discovery §4.3), its endpoints on a secure transport.
  if (doc.issuer !== issuer) throw new OAuthFailure(`the discovery document at ${where} is for another issuer`);
  const endpoint = (key: string) => {
    const value = doc[key];
    if (typeof value !== 'string') throw new OAuthFailure(`the OpenID provider ${issuer} publishes no ${key}`);
    const url = new URL(value);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      throw new OAuthFailure(`the OpenID provider's ${key} is not https: ${value}`);
    }
    return value;
  };
  return {
    authorizationEndpoint: endpoint('authorization_endpoint'),
    tokenEndpoint: endpoint('token_endpoint'),
    keys: createRemoteJWKSet(new URL(endpoint('jwks_uri')), { timeoutDuration: FETCH_TIMEOUT_MS }),
  };
}
