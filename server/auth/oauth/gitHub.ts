import { CodeChallengeMethod, OAuth2Client } from 'arctic';
import type { GitHubSettings } from '../../../config/settings.js';
import {
  type AuthorizationRequest,
  describeProviderError,
  type ExternalIdentity,
  OAuthFailure,
  type OAuthProvider,
} from './provider.js';

const FETCH_TIMEOUT_MS = 10_000;

/**
 * Sign-in with GitHub (or a GitHub Enterprise server): OAuth 2 with state and PKCE, then the account's
 * numeric id (stable across renames) and its primary verified address from the REST API.
 */
export class GitHubProvider implements OAuthProvider {
  readonly name = 'github' as const;

  constructor(private readonly o: GitHubSettings) {}

  async authorizationUrl(r: AuthorizationRequest): Promise<URL> {
    return this.client(r.redirectUri).createAuthorizationURLWithPKCE(
      `${this.o.webUrl}/login/oauth/authorize`,
      r.state,
      CodeChallengeMethod.S256,
      r.codeVerifier,
      ['read:user', 'user:email'],
    );
  }

  async identify(r: { code: string; codeVerifier: string; redirectUri: string }): Promise<ExternalIdentity> {
    let accessToken: string;
    try {
      const tokens = await this.client(r.redirectUri).validateAuthorizationCode(
        `${this.o.webUrl}/login/oauth/access_token`,
        r.code,
        r.codeVerifier,
      );
      // GitHub answers a refused code with HTTP 200 and an `error` field.
      const refused = (tokens.data as { error?: unknown }).error;
      if (typeof refused === 'string') throw new OAuthFailure(`the provider refused the code: ${refused.slice(0, 80)}`);
      accessToken = tokens.accessToken();
    } catch (err) {
      if (err instanceof OAuthFailure) throw err;
      throw new OAuthFailure(describeProviderError(err));
    }
    const user = (await this.api('/user', accessToken)) as { id?: unknown };
    if (typeof user.id !== 'number' && typeof user.id !== 'string')
      throw new OAuthFailure('GitHub named no account id');
    const emails = await this.api('/user/emails', accessToken);
    const primary = Array.isArray(emails)
      ? (emails as Array<{ email?: unknown; primary?: unknown; verified?: unknown }>).find(
          (e) => e.primary === true && e.verified === true && typeof e.email === 'string',
        )
      : undefined;
    if (!primary) throw new OAuthFailure('the GitHub account has no verified primary email address');
    return { subject: String(user.id), email: (primary.email as string).toLowerCase() };
  }

  private client(redirectUri: string) {
    return new OAuth2Client(this.o.clientId, this.o.clientSecret, redirectUri);
  }

  private async api(path: string, token: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.o.apiUrl}${path}`, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'tradeflow',
        },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch {
      throw new OAuthFailure(`GitHub's API could not be reached for ${path}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new OAuthFailure(`GitHub's API answered HTTP ${res.status} for ${path}`);
    }
    try {
      return await res.json();
    } catch {
      throw new OAuthFailure(`GitHub's API gave an answer for ${path} that could not be read`);
    }
  }
}
