// The chat session workflow on its own, for workers and tests that bundle only it (workflows/index.ts
// exports it with every other workflow).
export { chatSessionWorkflow } from './session.js';
