export { simulationWorkflow } from './simulation.js';
