#!/usr/bin/env node
// `npm run doctor [command…]`: every external piece tradeflow runs (devstack/requirements.mjs) with its
// version or "missing", and what to do; exits 1 when something a command needs is missing. The set-up
// runs it at the end for the command it prepared. Plain JS without dependencies: it has to work on the
// machine's Node before anything is installed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, locate, REQUIREMENTS, ROOT, todoFor } from '../devstack/requirements.mjs';

/** The first version-looking token of a program's output: `podman version 4.3.1` → `4.3.1`. */
export function extractVersion(output) {
  return output.match(/\d+(?:\.\d+)+[A-Za-z0-9.+~-]*/)?.[0];
}

/** Whether dotted `version` is at least `min` (numeric parts; suffixes such as `+ds1` ignored). */
export function versionAtLeast(version, min) {
  const parts = (v) =>
    v
      .split(/[^\d.]/, 1)[0]
      .split('.')
      .map(Number);
  const [a, b] = [parts(version), parts(min)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Output of `path args` (stdout and stderr: some tools print their version on stderr), whatever its exit code. */
function output(path, args) {
  return new Promise((done) => {
    execFile(path, args, { timeout: 15_000, encoding: 'utf8' }, (_err, stdout, stderr) =>
      done(`${stdout ?? ''}\n${stderr ?? ''}`),
    );
  });
}

/**
 * Where each entry is and its version, probed in parallel: `{ entry, path, version, outdated, fallback }`.
 * `fallback` names the candidate found when it is not the preferred one (tini for catatonit).
 */
export async function probe(entries = REQUIREMENTS, env = process.env) {
  return Promise.all(
    entries.map(async (entry) => {
      if (entry.probe) {
        const p = entry.probe(env);
        const path = existsSync(p.path) ? p.path : undefined;
        const version =
          p.version ?? (path && entry.version ? extractVersion(await output(path, entry.version)) : undefined);
        return { entry, path, version, outdated: p.outdated };
      }
      const found = locate(entry, env);
      if (!found) return { entry };
      let version = entry.version ? extractVersion(await output(found.path, entry.version)) : undefined;
      const outdated =
        version && entry.minVersion && !versionAtLeast(version, entry.minVersion)
          ? `${entry.minVersion} or later wanted`
          : undefined;
      if (entry.candidates.length > 1) version = `${found.program} ${version ?? ''}`.trim();
      return { entry, path: found.path, version, outdated, ...(found.preferred ? {} : { fallback: found.program }) };
    }),
  );
}

/** The report's rows for `commands`: what each piece is needed by, its state, what to do. No I/O. */
export function assess(probes, commands, env = process.env) {
  return probes.map(({ entry, path, version, outdated, fallback }) => {
    const neededBy = commands.filter((c) => entry.neededBy(c, env));
    const state = !path ? 'missing' : outdated ? 'outdated' : fallback ? 'fallback' : 'ok';
    const todo =
      state === 'ok'
        ? ''
        : state === 'fallback'
          ? `${todoFor(entry)} (preferred; ${fallback} is used meanwhile)`
          : todoFor(entry);
    return {
      name: entry.name,
      state,
      required: neededBy.length > 0,
      neededBy,
      version: state === 'missing' ? 'missing' : `${version ?? 'present'}${outdated ? ` (${outdated})` : ''}`,
      path: path ?? '',
      todo,
    };
  });
}

/** 1 when a piece some command needs is missing or too old (a fallback is fine), else 0. */
export function exitCode(rows) {
  return rows.some((r) => r.required && (r.state === 'missing' || r.state === 'outdated')) ? 1 : 0;
}

function shortPath(path) {
  if (!path) return '-';
  if (path.startsWith(`${ROOT}/`)) return relative(ROOT, path);
  return path.startsWith(`${homedir()}/`) ? `~/${relative(homedir(), path)}` : path;
}

export function formatTable(rows) {
  const table = [
    ['what', 'version', 'path', 'needed by', 'to do'],
    ...rows.map((r) => [
      r.name,
      r.version,
      shortPath(r.path),
      r.required ? r.neededBy.join(', ') : 'not needed',
      r.todo || '-',
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const lines = table.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
  const failing = rows.filter((r) => r.required && (r.state === 'missing' || r.state === 'outdated'));
  const verdict = failing.length
    ? `missing or too old: ${failing.map((r) => r.name).join(', ')} (see "to do")`
    : 'everything needed is there';
  return `${lines.join('\n')}\n${verdict}\n`;
}

/** Probes the entries `commands` need (all of them when `all`), prints the table, returns the exit code. */
export async function doctor(
  commands,
  { all = false, env = process.env, write = (s) => process.stdout.write(s) } = {},
) {
  const entries = all ? REQUIREMENTS : REQUIREMENTS.filter((r) => commands.some((c) => r.neededBy(c, env)));
  const rows = assess(await probe(entries, env), commands, env);
  write(formatTable(rows));
  return exitCode(rows);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !COMMANDS.includes(a));
  if (unknown.length) {
    process.stderr.write(`unknown command ${unknown.join(', ')}; use any of ${COMMANDS.join(', ')}\n`);
    process.exit(2);
  }
  const commands = args.length ? args : COMMANDS;
  process.stdout.write(`tradeflow doctor: the external pieces of ${commands.join(', ')}\n`);
  process.exit(await doctor(commands, { all: true }));
}
