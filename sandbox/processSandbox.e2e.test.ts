import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EXIT_3_SCRIPT,
  HEAP_OOM_SCRIPT,
  LINES_SCRIPT,
  WRITE_SCRIPT,
  waitingScript,
} from '../test/support/sandbox/scripts.js';
import { collect, newJob, removeJobDirs, testScope } from '../test/support/sandboxJobs.js';
import { ProcessSandbox, SANDBOX_PID_FILE } from './processSandbox.js';

const GRACE_MS = 1_500;
const scope = testScope();
const sandbox = new ProcessSandbox({ stopGraceMs: GRACE_MS, scope });
const node =
  (script: string, ...args: string[]) =>
  (runDir: string) => [process.execPath, join(runDir, script), ...args];

// Starts a grandchild in the sandbox's process group and records its pid, then waits.
const WITH_GRANDCHILD_SCRIPT = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
require('node:fs').writeFileSync('grandchild.pid', String(child.pid));
setInterval(() => {}, 1000);
console.log('ready');
`;

/** Running (a zombie waiting for its parent to reap it counts as dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitDead(pid: number, ms = 3_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid) && Date.now() < deadline) await sleep(20);
  return !alive(pid);
}

/** A process that looks like a sandbox left behind by a crashed worker (own group, markers set). */
function fakeOrphan(jobId: string, orphanScope = scope): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    detached: true,
    stdio: 'ignore',
    env: { TRADEFLOW_SANDBOX: 'analysis', TRADEFLOW_SANDBOX_JOB: jobId, TRADEFLOW_SANDBOX_SCOPE: orphanScope },
  });
  child.unref();
  return child.pid!;
}

afterAll(async () => {
  await sandbox.cleanupOrphans();
  removeJobDirs();
});

describe('ProcessSandbox', () => {
  it('streams stdout and stderr lines in order, without the worker’s environment', async () => {
    process.env.TRADEFLOW_TEST_SECRET = 'must-not-leak';
    const job = newJob({ files: { 'lines.js': LINES_SCRIPT }, command: node('lines.js'), env: { EXTRA: 'yes' } });
    const run = await collect(sandbox, job);
    delete process.env.TRADEFLOW_TEST_SECRET;

    expect(run.outcome).toMatchObject({ exitCode: 0, signal: null, oomKilled: false, stopped: false, timedOut: false });
    expect(run.stdout.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `out ${i + 1}`));
    expect(run.stderr).toEqual(Array.from({ length: 20 }, (_, i) => `err ${i + 1}`));
    expect(run.stdout.at(-1)).toBe('partial without newline');
    const { env, cwd } = JSON.parse(run.stdout[50]!) as { env: Record<string, string>; cwd: string };
    expect(cwd).toBe(job.runDir);
    expect(env).toMatchObject({ JOB_DIR: job.runDir, HOME: job.runDir, TZ: 'UTC', EXTRA: 'yes' });
    expect(env.TRADEFLOW_TEST_SECRET).toBeUndefined();
    expect(run.startedIds).toEqual([run.outcome.sandboxId]);
    expect(run.outcome.firstOutputMs).toBeGreaterThan(0);
  });

  it('reports a non-zero exit code', async () => {
    const job = newJob({ files: { 'fail.js': EXIT_3_SCRIPT }, command: node('fail.js') });
    const run = await collect(sandbox, job);
    expect(run.outcome).toMatchObject({ exitCode: 3, signal: null, stopped: false });
    expect(run.stdout).toEqual(['failing']);
  });

  it('stops on abort with SIGTERM to the whole process group', async () => {
    const job = newJob({ files: { 'wait.js': WITH_GRANDCHILD_SCRIPT }, command: node('wait.js') });
    const abort = new AbortController();
    const run = await collect(sandbox, job, { abort, onLine: (l) => l === 'ready' && abort.abort() });
    expect(run.outcome).toMatchObject({ stopped: true, timedOut: false, exitCode: null, signal: 'SIGTERM' });
    expect(run.outcome.durationMs).toBeLessThan(GRACE_MS + 5_000);
    expect(await waitDead(Number(readFileSync(join(job.runDir, 'grandchild.pid'), 'utf8')))).toBe(true);
    expect(() => readFileSync(join(job.runDir, SANDBOX_PID_FILE))).toThrow();
  });

  it('stops on abort: a process that traps SIGTERM exits on its own terms', async () => {
    const job = newJob({ files: { 'wait.js': waitingScript('trap') }, command: node('wait.js') });
    const abort = new AbortController();
    const run = await collect(sandbox, job, { abort, onLine: (l) => l === 'ready' && abort.abort() });
    expect(run.outcome).toMatchObject({ stopped: true, exitCode: 0 });
    expect(run.stdout).toEqual(['ready', 'bye']);
  });

  it('stops on abort: a process that ignores SIGTERM is killed after the grace period', async () => {
    const job = newJob({ files: { 'wait.js': waitingScript('ignore') }, command: node('wait.js') });
    const abort = new AbortController();
    let abortedAt = 0;
    const run = await collect(sandbox, job, {
      abort,
      onLine: (l) => {
        if (l !== 'ready') return;
        abortedAt = performance.now();
        abort.abort();
      },
    });
    expect(run.outcome).toMatchObject({ stopped: true, exitCode: null, signal: 'SIGKILL' });
    expect(run.stdout).toContain('ignoring SIGTERM');
    expect(performance.now() - abortedAt).toBeGreaterThanOrEqual(GRACE_MS - 100);
  });

  it('does not start a job whose abort signal already fired', async () => {
    const job = newJob({ files: { 'wait.js': waitingScript('default') }, command: node('wait.js') });
    const abort = new AbortController();
    abort.abort();
    const run = await collect(sandbox, job, { abort });
    expect(run.outcome).toMatchObject({ stopped: true, exitCode: null, sandboxId: '' });
    expect(run.startedIds).toEqual([]);
  });

  it('ends a run that exceeds its time limit', async () => {
    const job = newJob({
      files: { 'wait.js': waitingScript('ignore') },
      command: node('wait.js'),
      limits: { timeoutMs: 1_000 },
    });
    const run = await collect(sandbox, job);
    expect(run.outcome).toMatchObject({ timedOut: true, stopped: false, signal: 'SIGKILL' });
    expect(run.outcome.durationMs).toBeGreaterThanOrEqual(1_000 + GRACE_MS - 100);
  });

  it('caps only the V8 heap: overflowing it is a failed exit, never an oomKilled', async () => {
    const job = newJob({
      files: { 'heap.js': HEAP_OOM_SCRIPT },
      command: (runDir) => [process.execPath, '--max-old-space-size=32', join(runDir, 'heap.js')],
    });
    const run = await collect(sandbox, job);
    expect(run.outcome.oomKilled).toBe(false);
    expect(run.outcome.exitCode === 0).toBe(false);
    expect(run.stderr.join('\n')).toMatch(/heap out of memory/i);
  });

  it('runs in the job folder', async () => {
    const job = newJob({ files: { 'write.js': WRITE_SCRIPT }, command: node('write.js') });
    const run = await collect(sandbox, job);
    expect(run.outcome.exitCode).toBe(0);
    expect(readFileSync(join(job.runDir, 'written-relative.txt'), 'utf8')).toBe('relative');
    expect(readFileSync(join(job.runDir, 'written-via-env.txt'), 'utf8')).toBe('via JOB_DIR');
  });

  it('kills a leftover process of the same job (recorded in .sandbox.pid) before running it again', async () => {
    const job = newJob({ command: () => [process.execPath, '-e', "console.log('second run')"] });
    const leftover = fakeOrphan(job.jobId);
    writeFileSync(
      join(job.runDir, SANDBOX_PID_FILE),
      JSON.stringify({
        pid: leftover,
        jobId: job.jobId,
        argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
      }),
    );
    const run = await collect(sandbox, job);
    expect(run.stdout).toEqual(['second run']);
    expect(await waitDead(leftover)).toBe(true);
  });

  it('leaves an unrelated process alone when .sandbox.pid is stale', async () => {
    const job = newJob({ command: () => [process.execPath, '-e', "console.log('ran')"] });
    const unrelated = fakeOrphan('some-other-job', `${scope}-unrelated`);
    try {
      writeFileSync(
        join(job.runDir, SANDBOX_PID_FILE),
        JSON.stringify({ pid: unrelated, jobId: job.jobId, argv: ['something', 'else'] }),
      );
      const run = await collect(sandbox, job);
      expect(run.stdout).toEqual(['ran']);
      expect(alive(unrelated)).toBe(true);
    } finally {
      process.kill(-unrelated, 'SIGKILL');
    }
  });

  it('cleanupOrphans kills this scope’s sandbox processes except the kept jobs', async () => {
    const suffix = scope.slice(-8);
    const orphan = fakeOrphan(`orphan-${suffix}`);
    const kept = fakeOrphan(`kept-${suffix}`);
    const otherScope = fakeOrphan(`other-${suffix}`, `${scope}-other`);
    try {
      await sleep(100); // /proc shows the new environment once exec is done
      const removed = await sandbox.cleanupOrphans(new Set([`kept-${suffix}`]));
      expect(removed).toEqual([String(orphan)]);
      expect(await waitDead(orphan)).toBe(true);
      expect(alive(kept)).toBe(true);
      expect(alive(otherScope)).toBe(true);
    } finally {
      for (const pid of [kept, otherScope]) process.kill(-pid, 'SIGKILL');
    }
  });

  it('runs the pipeline (sandbox/pipelineMain.ts through tsx) by default, with the job folder as its argument', async () => {
    const job = newJob({});
    const run = await collect(sandbox, job);
    const first = JSON.parse(run.stdout[0] ?? 'null') as { t?: unknown } | null;
    expect(first?.t, `stdout: ${run.stdout.join('\n')}\nstderr: ${run.stderr.join('\n')}`).toBeTypeOf('string');
    expect(run.outcome.exitCode).not.toBeNull();
  });
});
