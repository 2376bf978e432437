/** Answered to anyone: load balancers and orchestrators probe health without credentials. */
export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/health', '/healthz']);
/** Paths that need no credentials: health, the API document and signing in. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  ...HEALTH_PATHS,
  '/openapi.json',
  '/auth/email/start',
  '/auth/email/verify',
  '/auth/google/start',
  '/auth/google/callback',
  '/auth/github/start',
  '/auth/github/callback',
]);
