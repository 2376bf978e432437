import type { AuthSettings } from '../../../config/settings.js';
import { GitHubProvider } from './gitHub.js';
import { OpenIdProvider } from './openId.js';
import type { OAuthProvider, ProviderName } from './provider.js';

/** The providers the settings turn on (a client id and secret each). */
export function configuredProviders(auth: AuthSettings): Map<ProviderName, OAuthProvider> {
  const providers = new Map<ProviderName, OAuthProvider>();
  if (auth.google) providers.set('google', new OpenIdProvider('google', auth.google));
  if (auth.github) providers.set('github', new GitHubProvider(auth.github));
  return providers;
}
