export { analysisBatchWorkflow, analysisWorkflow } from './analysis.js';
export { simulationWorkflow } from './simulation.js';
