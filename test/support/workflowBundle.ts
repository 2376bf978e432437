import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowsPath } from '../../worker/workflowsPath.js';

let bundle: Promise<{ code: string }> | undefined;

/** The workflow bundle, built once per test file (workers and replays share it). */
export function workflowBundle() {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
  return bundle;
}
