// The requirements list (devstack/requirements.mjs) against the code, and the doctor's pure parts.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assess, exitCode, extractVersion, formatTable, versionAtLeast } from '../scripts/doctor.mjs';
import { CONTAINER_INIT, knownPrograms, REQUIREMENTS, ROOT, todoFor } from './requirements.mjs';

const SKIP_DIRS = new Set(['node_modules', '.data', '.git', 'tools', 'coverage']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (d.isDirectory()) return SKIP_DIRS.has(d.name) ? [] : sourceFiles(join(dir, d.name));
    // Not this file: its own examples would count.
    return /\.(ts|mjs)$/.test(d.name) && d.name !== 'requirements.test.ts' ? [join(dir, d.name)] : [];
  });
}

/** Programs the code starts by a literal name: execFileSync('pdftotext', …), spawn('go', …), commandPath('runc', …). */
function programsRun(): Map<string, string> {
  const found = new Map<string, string>();
  const call = /\b(?:execFileSync|execFile|spawnSync|spawn|commandPath|run|mustRun)\(\s*'([\w./-]+)'/g;
  for (const file of sourceFiles(ROOT)) {
    for (const m of readFileSync(file, 'utf8').matchAll(call)) {
      found.set(basename(m[1] ?? ''), file.slice(ROOT.length + 1));
    }
  }
  return found;
}

describe('requirements', () => {
  it('lists every program the code, the tests and the set-up run', () => {
    const run = programsRun();
    // The scan itself works: these are run by the tests and by devstack/podman.ts.
    expect([...run.keys()]).toEqual(expect.arrayContaining(['pdftotext', 'docker-compose', 'podman', 'runc']));
    const known = knownPrograms();
    // apt-get is the set-up's installer: it only installs what the list names, and only when it can run.
    const unlisted = [...run].filter(([program]) => !known.has(program) && program !== 'apt-get');
    expect(unlisted.map(([program, file]) => `${program} (${file})`)).toEqual([]);
  });

  it('gives every entry a name, a check, and something to do when it is missing', () => {
    const names = REQUIREMENTS.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of REQUIREMENTS) {
      expect(typeof r.neededBy, r.name).toBe('function');
      expect(Boolean(r.probe) || (r.candidates?.length ?? 0) > 0, r.name).toBe(true);
      expect(todoFor(r), r.name).not.toBe('install it');
    }
  });

  it('prefers catatonit, Podman’s default init, and installs it from Debian', () => {
    expect(CONTAINER_INIT.candidates?.[0]?.program).toBe('catatonit');
    expect(CONTAINER_INIT.candidates?.[0]?.paths).toContain('/usr/libexec/podman/catatonit');
    expect(CONTAINER_INIT.candidates?.map((c) => c.program)).toEqual(['catatonit', 'tini-static', 'tini', 'dumb-init']);
    expect(CONTAINER_INIT.debian).toBe('catatonit');
  });
});

describe('doctor', () => {
  const entry = (name: string) => REQUIREMENTS.find((r) => r.name === name)!;

  it('fails only for a missing piece that one of the commands needs', () => {
    const probes = [{ entry: entry('podman') }, { entry: entry('sh'), path: '/bin/sh' }];
    const forTest = assess(probes, ['test'], {});
    expect(forTest[0]).toMatchObject({ state: 'missing', required: true, todo: 'apt-get install podman' });
    expect(exitCode(forTest)).toBe(1);
    expect(formatTable(forTest)).toMatch(/^podman +missing +- +test +apt-get install podman$/m);

    // npm start runs analyses in processes unless SANDBOX_MODE=docker: no Podman needed.
    expect(exitCode(assess(probes, ['start'], {}))).toBe(0);
    expect(exitCode(assess(probes, ['start'], { SANDBOX_MODE: 'docker' }))).toBe(1);
    expect(exitCode(assess(probes, ['start'], { SANDBOX_MODE: 'docker', DOCKER_HOST: 'unix:///x.sock' }))).toBe(0);
  });

  it('accepts a fallback init but says what is preferred', () => {
    const rows = assess(
      [{ entry: CONTAINER_INIT, path: '/usr/bin/tini-static', version: 'tini-static 0.19.0', fallback: 'tini-static' }],
      ['test'],
      {},
    );
    expect(rows[0]).toMatchObject({ state: 'fallback', todo: expect.stringContaining('apt-get install catatonit') });
    expect(exitCode(rows)).toBe(0);
  });

  it('fails for a piece older than it must be', () => {
    const rows = assess(
      [{ entry: entry('go'), path: '/usr/bin/go', version: '1.19.8', outdated: '1.25 or later wanted' }],
      ['start'],
      {
        TRADEFLOW_TOOLS_DIR: '/nonexistent',
      },
    );
    expect(rows[0]).toMatchObject({ state: 'outdated', required: true, version: '1.19.8 (1.25 or later wanted)' });
    expect(exitCode(rows)).toBe(1);
  });

  it('reads versions from the tools’ own words', () => {
    expect(extractVersion('podman version 4.3.1')).toBe('4.3.1');
    expect(extractVersion('go version go1.26.8 linux/amd64')).toBe('1.26.8');
    expect(extractVersion('tini version 0.1.7_catatonit')).toBe('0.1.7');
    expect(extractVersion('runc version 1.1.5+ds1\ncommit: v1.1.5')).toBe('1.1.5+ds1');
    expect(extractVersion('ldd (Debian GLIBC 2.36-9+deb12u14) 2.36')).toBe('2.36-9+deb12u14');
    expect(extractVersion('sh: 1: no version')).toBeUndefined();
    expect(versionAtLeast('1.26.8', '1.25')).toBe(true);
    expect(versionAtLeast('1.25', '1.25')).toBe(true);
    expect(versionAtLeast('1.19.8', '1.25')).toBe(false);
    expect(versionAtLeast('1.1.5+ds1', '1.1')).toBe(true);
  });
});
