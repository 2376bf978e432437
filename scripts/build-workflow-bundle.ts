// Part of `npm test`: proves the workflow code bundles (deterministic imports only) before any test runs.
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowsPath } from '../worker/workflowsPath.js';

const started = Date.now();
const { code } = await bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
console.log(`workflow bundle ok: ${(code.length / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`);
