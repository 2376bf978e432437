import type { JobDoc } from '../../jobs/records.js';
import { analysisViews } from '../analysis/views.js';
import type { AppDeps } from '../context.js';
import { simulationViews } from '../simulation/views.js';
import type { JobViews } from './views.js';

export type { JobViews };

/** The one place the API dispatches on a job's kind. */
export function jobViews(deps: AppDeps, job: JobDoc): JobViews {
  switch (job.kind) {
    case 'simulation':
      return simulationViews(deps, job);
    case 'analysis':
      return analysisViews(deps, job);
  }
}
