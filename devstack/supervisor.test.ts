import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ManagedProcess } from './processes.js';
import { supervise } from './supervisor.js';

/** A process stand-in whose exit the test decides. */
function fakeProcess(): ManagedProcess & { exit(code: number): void } {
  const child = new EventEmitter() as unknown as ChildProcess;
  return {
    name: 'svc',
    child,
    logFile: '-',
    stop: async () => undefined,
    exit: (code) => void child.emit('exit', code, null),
  };
}

describe('supervise', () => {
  it('starts a service that exits on its own again', async () => {
    const started: Array<ReturnType<typeof fakeProcess>> = [];
    const svc = await supervise(
      'svc',
      async () => {
        const p = fakeProcess();
        started.push(p);
        return p;
      },
      { log: () => undefined, maxBackoffMs: 1_000 },
    );
    started[0]!.exit(1);
    for (let i = 0; i < 100 && started.length < 2; i++) await sleep(50);
    expect(started).toHaveLength(2);
    await svc.stop();
  });

  it('does not start a service again once the instance is shutting down (Ctrl-C signals every process)', async () => {
    let shuttingDown = false;
    const started: Array<ReturnType<typeof fakeProcess>> = [];
    const logged: string[] = [];
    const svc = await supervise(
      'svc',
      async () => {
        const p = fakeProcess();
        started.push(p);
        return p;
      },
      { log: (m) => logged.push(m), shuttingDown: () => shuttingDown },
    );
    shuttingDown = true;
    started[0]!.exit(0);
    await sleep(1_500);
    expect(started).toHaveLength(1);
    expect(logged).toEqual([]);
    await svc.stop();
  });
});
