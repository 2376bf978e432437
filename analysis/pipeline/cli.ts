import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { JOB_SPEC_FILE, PIPELINE_EXIT } from '../contract.js';
import { ANALYSES_SPEC_SCHEMA } from '../jobSpecSchema.js';
import { runPipeline } from './run.js';

function fail(msg: string): number {
  process.stdout.write(`${JSON.stringify({ t: 'LOG', msg })}\n`);
  return PIPELINE_EXIT.badSpec;
}

/** Reads and checks `job.json`, runs the pipeline, maps the manifest's status to the exit code. */
export async function runPipelineCli(jobDir: string | undefined): Promise<number> {
  if (!jobDir) return fail('usage: pipeline <job folder> (or JOB_DIR)');
  // A stop is SIGTERM: leave at once, without a manifest; the orchestrator records `stopped`.
  process.once('SIGTERM', () => {
    process.stdout.write(`${JSON.stringify({ t: 'LOG', msg: 'SIGTERM received: stopping' })}\n`);
    process.exit(143);
  });
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(jobDir, JOB_SPEC_FILE), 'utf8'));
  } catch (err) {
    return fail(`cannot read ${JOB_SPEC_FILE}: ${(err as Error).message}`);
  }
  const parsed = ANALYSES_SPEC_SCHEMA.safeParse(raw);
  if (!parsed.success) return fail(`invalid ${JOB_SPEC_FILE}: ${z.prettifyError(parsed.error)}`);
  const manifest = await runPipeline(jobDir, parsed.data);
  if (manifest.status === 'completed') return PIPELINE_EXIT.completed;
  return manifest.status === 'llm_timeout' ? PIPELINE_EXIT.llmTimeout : PIPELINE_EXIT.failed;
}
