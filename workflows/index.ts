export { analysisBatchWorkflow, analysisWorkflow } from './analysis.js';
export { closeAbandonedJobWorkflow } from './closeAbandonedJob.js';
export { reconcileJobsWorkflow } from './reconcileJobs.js';
export { simulationWorkflow } from './simulation.js';
