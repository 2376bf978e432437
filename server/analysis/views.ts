import type { AnalysisJob } from '../../jobs/records.js';
import { type AppDeps, workflowUiLink } from '../context.js';
import type { JobViews } from '../kinds/views.js';
import { analysisDetailedStatus, analysisJobStatus } from './presenter.js';

export function analysisViews(deps: AppDeps, job: AnalysisJob): JobViews {
  const links = { webUi: workflowUiLink(deps, job.workflowId) };
  return {
    status: async () => analysisJobStatus(job, links),
    listItem: () => analysisJobStatus(job, links),
    detailed: async () => analysisDetailedStatus(job, links),
    stopMessage: 'stop requested: the sandbox gets SIGTERM, then a kill after the grace period',
    /** An analysis runs again under its own id, as its next run. */
    retry: async () => {
      const { run } = await deps.analyses.retry(job);
      // The new run's workflow moves the record back to pending in a moment; the answer says what was accepted.
      const accepted: AnalysisJob = {
        ...job,
        status: 'pending',
        analysis: { ...job.analysis, runs: run, stage: 'queued' },
      };
      return {
        status: 202,
        body: { ...analysisJobStatus(accepted, links), retried_job_id: job._id },
      };
    },
  };
}
