export { analysisBatchWorkflow, analysisWorkflow } from './analysis.js';
export { chatSessionWorkflow } from './chat/session.js';
export { closeAbandonedJobWorkflow } from './closeAbandonedJob.js';
export { jobWebhookWorkflow } from './jobWebhook.js';
export { marketFeedWorkflow } from './realtime/marketFeed.js';
export { reconcileJobsWorkflow } from './reconcileJobs.js';
export { dailyReportsWorkflow, simulationCatchUpWorkflow } from './scheduled.js';
export { simulationWorkflow } from './simulation.js';
