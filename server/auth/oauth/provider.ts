/** The OAuth providers one may sign in with. */
export const PROVIDERS = ['google', 'github'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Who the provider vouches for: its own id for the account, and an address it has verified. */
export interface ExternalIdentity {
  subject: string;
  email: string;
}

export interface AuthorizationRequest {
  state: string;
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
}

/** One provider's half of the authorization-code flow (with PKCE): where to send the browser, and back. */
export interface OAuthProvider {
  readonly name: ProviderName;
  authorizationUrl(r: AuthorizationRequest): Promise<URL>;
  /** Trades the code for the account it signs in; throws `OAuthFailure` saying why not. */
  identify(r: { code: string; codeVerifier: string; nonce: string; redirectUri: string }): Promise<ExternalIdentity>;
}

/** A sign-in the provider or its answer refused: the reason is safe to log and to show (no token in it). */
export class OAuthFailure extends Error {}

/** The provider's error, said without anything it echoed back that could be a secret. */
export function describeProviderError(err: unknown): string {
  const e = err as { name?: string; code?: string; description?: string | null; status?: number; message?: string };
  if (e.name === 'OAuth2RequestError' && e.code) return `the provider refused the code: ${e.code}`;
  if (e.name === 'ArcticFetchError') return 'the provider could not be reached';
  if (typeof e.status === 'number') return `the provider answered HTTP ${e.status}`;
  return 'the provider gave an answer that could not be read';
}
