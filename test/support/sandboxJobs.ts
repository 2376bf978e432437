import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxJob, SandboxOutcome, SandboxRunner } from '../../sandbox/types.js';

export interface CollectedRun {
  outcome: SandboxOutcome;
  stdout: string[];
  stderr: string[];
  startedIds: string[];
}

const jobDirs: string[] = [];

export function removeJobDirs(): void {
  for (const dir of jobDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fresh job folder holding `files`; the job id is unique per call. */
export function newJob(o: {
  files?: Record<string, string>;
  command?: (runDir: string) => string[];
  limits?: Partial<SandboxJob['limits']>;
  network?: string | null;
  env?: Record<string, string>;
  jobId?: string;
}): SandboxJob {
  const runDir = mkdtempSync(join(tmpdir(), 'tradeflow-sandbox-job-'));
  jobDirs.push(runDir);
  for (const [name, content] of Object.entries(o.files ?? {})) writeFileSync(join(runDir, name), content);
  return {
    jobId: o.jobId ?? `t-${randomUUID().slice(0, 8)}`,
    runDir,
    env: o.env ?? {},
    limits: { memoryMb: 256, cpus: 1, timeoutMs: 60_000, ...o.limits },
    network: o.network === undefined ? null : o.network,
    ...(o.command ? { command: o.command(runDir) } : {}),
  };
}

/** Runs a job, collecting its lines; `onLine` may act on them (e.g. abort on "ready"). */
export async function collect(
  runner: SandboxRunner,
  job: SandboxJob,
  o: { abort?: AbortController; onLine?: (line: string, stream: 'stdout' | 'stderr') => void } = {},
): Promise<CollectedRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const startedIds: string[] = [];
  const outcome = await runner.run(
    job,
    {
      onLine: (line, stream) => {
        (stream === 'stdout' ? stdout : stderr).push(line);
        o.onLine?.(line, stream);
      },
      onStarted: ({ sandboxId }) => startedIds.push(sandboxId),
    },
    (o.abort ?? new AbortController()).signal,
  );
  return { outcome, stdout, stderr, startedIds };
}

/** A scope of its own, so this test run's orphan cleanup never touches anybody else's sandboxes. */
export function testScope(): string {
  return `test-${process.pid}-${randomUUID().slice(0, 8)}`;
}
