/** Answered to anyone: load balancers and orchestrators probe health without credentials. */
export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/health', '/healthz']);
/** Paths that need no credentials: health and the API document. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([...HEALTH_PATHS, '/openapi.json']);
