import { inject } from 'vitest';
import { type Harness, type HarnessOptions, startService } from './service.js';

export type { Harness } from './service.js';
export { STRATEGY_MODELS } from './service.js';

/** The real service on the test run's shared Temporal dev server and FerretDB (see globalSetup). */
export function startHarness(o: Omit<HarnessOptions, 'temporalAddress' | 'mongoUri'>): Promise<Harness> {
  return startService({ ...o, temporalAddress: inject('temporalAddress'), mongoUri: inject('mongoUri') });
}
