// Every program outside node_modules that tradeflow, its set-up or its tests run, in one list: the set-up
// (bootstrap.mjs) installs from it, `npm run doctor` reports on it, and requirements.test.ts fails when the
// code runs a program that is missing here. Adding a program means adding one entry.
// Plain JS without dependencies: it runs on the machine's Node (Debian's may be 20) before npm installed anything.

import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {{ program: string, paths?: string[] }} Candidate
 * @typedef {object} Requirement
 * @property {string} name
 * @property {Candidate[]} [candidates] where to find it, best first; later ones are fallbacks
 * @property {string[]} [also] programs that come with it
 * @property {(env: NodeJS.ProcessEnv) => { path: string, version?: string, outdated?: string }} [probe]
 * @property {string[]} [version] the arguments that make it print its version
 * @property {string} [minVersion]
 * @property {string} [debian] the package the set-up installs
 * @property {string} [todo] what to do when it is missing, if not installing `debian`
 * @property {(command: string, env: NodeJS.ProcessEnv) => boolean} neededBy
 */

export const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
export const COMMANDS = ['start', 'test', 'test-unit', 'bench', 'sandbox-image'];

export const TEMPORAL_CLI_VERSION = '1.5.1';
// temporalio/cli v1.5.1's go.mod asks for Go 1.25 (FerretDB's build for 1.24); Debian 12's golang-go is 1.19.
export const GO_MIN_VERSION = '1.25';
const FERRETDB_SRC = join(ROOT, 'tools', 'ferretdb');

export function toolsDir(env = process.env) {
  return env.TRADEFLOW_TOOLS_DIR ?? join(homedir(), '.cache', 'tradeflow', 'bin');
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `name` on PATH, skipping node_modules folders: npm puts node_modules/.bin first, and its `node` is the
 * npm package's Node 24, not the machine's.
 */
export function onPath(name, env = process.env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.split(/[\\/]/).includes('node_modules')) continue;
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

/**
 * The first of an entry's candidates that exists (its `paths`, then PATH); `preferred` when it is the
 * first candidate, the one the set-up installs.
 */
export function locate(entry, env = process.env) {
  for (const [i, c] of (entry.candidates ?? []).entries()) {
    const path = (c.paths ?? []).find(isExecutable) ?? onPath(c.program, env);
    if (path) return { program: c.program, path, preferred: i === 0 };
  }
  return undefined;
}

/** The Temporal CLI built by the set-up: a module-proxy build reports 0.0.0-DEV, so a stamp records its version. */
export function temporalBuild(env = process.env) {
  const bin = join(toolsDir(env), 'temporal');
  const stamp = join(toolsDir(env), 'temporal.stamp');
  const built = existsSync(bin) && existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
  return { bin, stamp, built, want: TEMPORAL_CLI_VERSION, current: built === TEMPORAL_CLI_VERSION };
}

/** FerretDB built from tools/ferretdb; its stamp is a hash of that folder's sources, the version is in go.mod. */
export function ferretdbBuild(env = process.env) {
  const bin = join(toolsDir(env), 'ferretdb');
  const stamp = join(toolsDir(env), 'ferretdb.stamp');
  const h = createHash('sha256');
  // Every file the build reads: a change to any of them builds FerretDB again.
  const sources = readdirSync(FERRETDB_SRC).filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'));
  for (const f of ['go.mod', 'go.sum', ...sources.sort()]) h.update(readFileSync(join(FERRETDB_SRC, f)));
  const want = h.digest('hex');
  const version = readFileSync(join(FERRETDB_SRC, 'go.mod'), 'utf8').match(/FerretDB\/FerretDB v(\S+)/)?.[1];
  const built = existsSync(bin) && existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : undefined;
  return { bin, stamp, src: FERRETDB_SRC, want, version, current: built === want };
}

const always = () => true;
export const needsTemporal = (command, env) =>
  command === 'test' || command === 'bench' || (command === 'start' && !env.TEMPORAL_ADDRESS);
export const needsFerretdb = (command, env) =>
  command === 'test' || command === 'bench' || (command === 'start' && !env.MONGODB_URI);
/** Commands that build the pipeline image or run analyses in containers. */
const usesContainers = (command, env) =>
  command === 'test' ||
  command === 'sandbox-image' ||
  (command === 'bench' && !env.BENCH_SKIP_ANALYSIS) ||
  (command === 'start' && env.SANDBOX_MODE === 'docker');
/**
 * Commands that start their own Podman API service (devstack/podman.ts) unless DOCKER_HOST names an
 * engine; the tests always may (ensureDockerApi's own tests start one).
 */
const startsPodman = (command, env) => command === 'test' || (usesContainers(command, env) && !env.DOCKER_HOST);

/**
 * Container inits Podman can use, best first. Podman's default is catatonit, but Debian's podman only
 * recommends `catatonit | tini | dumb-init`; devstack/podman.ts writes the one found into `init_path`.
 * tini-static before tini: Podman bind-mounts the init into the container, whose image may have no libc.
 * @type {Requirement}
 */
export const CONTAINER_INIT = {
  name: 'container init',
  candidates: [
    {
      program: 'catatonit',
      paths: [
        '/usr/libexec/podman/catatonit',
        '/usr/bin/catatonit',
        '/usr/local/libexec/podman/catatonit',
        '/usr/local/bin/catatonit',
      ],
    },
    { program: 'tini-static', paths: ['/usr/bin/tini-static', '/usr/local/bin/tini-static'] },
    { program: 'tini', paths: ['/usr/bin/tini', '/usr/local/bin/tini'] },
    { program: 'dumb-init', paths: ['/usr/bin/dumb-init', '/usr/local/bin/dumb-init'] },
  ],
  version: ['--version'],
  debian: 'catatonit',
  neededBy: startsPodman,
};

/** The container init a Podman started by tradeflow uses: `{ program, path, preferred }`, or undefined. */
export function findContainerInit(env = process.env) {
  return locate(CONTAINER_INIT, env);
}

const cmd = (program, paths) => [{ program, ...(paths ? { paths } : {}) }];

/**
 * Go builds the Temporal CLI and FerretDB; once they are built and current it is not used.
 * @type {Requirement}
 */
export const GO = {
  name: 'go',
  candidates: cmd('go', ['/usr/local/go/bin/go']),
  version: ['version'],
  minVersion: GO_MIN_VERSION,
  todo: `Go >= ${GO_MIN_VERSION} from https://go.dev/dl (Debian 12's golang-go is too old)`,
  neededBy: (command, env) =>
    (needsTemporal(command, env) && !temporalBuild(env).current) ||
    (needsFerretdb(command, env) && !ferretdbBuild(env).current),
};

/**
 * Podman's container monitor; devstack/podman.ts wraps it (see conmonWrapper there).
 * @type {Requirement}
 */
export const CONMON = {
  name: 'conmon',
  candidates: cmd('conmon', [
    '/usr/bin/conmon',
    '/usr/libexec/podman/conmon',
    '/usr/local/bin/conmon',
    '/usr/local/libexec/podman/conmon',
  ]),
  version: ['--version'],
  debian: 'conmon',
  neededBy: startsPodman,
};

/**
 * util-linux's setpriv: services are started under `setpriv --pdeathsig SIGTERM`, so they end with the
 * process that started them, even when that one is killed outright.
 * @type {Requirement}
 */
export const SETPRIV = {
  name: 'setpriv',
  candidates: cmd('setpriv', ['/usr/bin/setpriv', '/bin/setpriv']),
  version: ['--version'],
  debian: 'util-linux',
  neededBy: (command) => command !== 'sandbox-image',
};

/** Debian's PostgreSQL server programs, newest major first: /usr/lib/postgresql/<major>/bin. */
export function postgresBinDirs() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'));
}

/**
 * PostgreSQL for the Windmill store script's tests (integrations/windmill): they use
 * TRADEFLOW_TEST_POSTGRES_URL, else a server answering on 127.0.0.1:5432, else start Debian's
 * (devstack/postgres.ts: initdb into a temporary folder, then postgres on a free port).
 * @type {Requirement}
 */
export const POSTGRES = {
  name: 'postgresql',
  candidates: [
    {
      program: 'initdb',
      paths: postgresBinDirs().map((d) => join(d, 'initdb')),
    },
  ],
  also: ['postgres'],
  version: ['--version'],
  debian: 'postgresql',
  neededBy: (command, env) => command === 'test' && !env.TRADEFLOW_TEST_POSTGRES_URL,
};

/** Debian's `initdb` and `postgres` of one major version, or undefined. */
export function findPostgres(env = process.env) {
  for (const dir of postgresBinDirs()) {
    const initdb = join(dir, 'initdb');
    const postgres = join(dir, 'postgres');
    if (isExecutable(initdb) && isExecutable(postgres)) return { initdb, postgres };
  }
  const initdb = onPath('initdb', env);
  const postgres = onPath('postgres', env);
  return initdb && postgres ? { initdb, postgres } : undefined;
}

/**
 * One entry per external piece, in the doctor's order (see the Requirement type above). Entries with
 * `probe` are found another way than on PATH: built by the set-up, or inside node_modules.
 * @type {Requirement[]}
 */
export const REQUIREMENTS = [
  {
    name: 'Node 24',
    probe: () => ({ path: join(ROOT, 'node_modules', '.bin', 'node') }),
    version: ['--version'],
    todo: 'npm ci (npm start and npm test run it): the npm package node',
    neededBy: always,
  },
  {
    name: 'node (machine)',
    candidates: cmd('node'),
    version: ['--version'],
    todo: 'install Node with npm (Debian: apt-get install nodejs npm); any version npm runs on',
    neededBy: always,
  },
  {
    name: 'npm',
    candidates: cmd('npm'),
    version: ['--version'],
    todo: 'apt-get install npm',
    neededBy: always,
  },
  GO,
  {
    name: 'temporal',
    probe: (env) => {
      const b = temporalBuild(env);
      return {
        path: b.bin,
        version: b.built,
        outdated: b.built !== undefined && !b.current ? `${b.want} wanted` : undefined,
      };
    },
    todo: `npm start or npm test build it (go install temporal@v${TEMPORAL_CLI_VERSION}; needs Go), or set TEMPORAL_ADDRESS`,
    neededBy: needsTemporal,
  },
  {
    name: 'ferretdb',
    probe: (env) => {
      const b = ferretdbBuild(env);
      const found = existsSync(b.bin);
      return {
        path: b.bin,
        version: found ? b.version : undefined,
        outdated: found && !b.current ? 'stamp differs from tools/ferretdb' : undefined,
      };
    },
    todo: 'npm start or npm test build it from tools/ferretdb (go install; needs Go), or set MONGODB_URI',
    neededBy: needsFerretdb,
  },
  {
    name: 'podman',
    candidates: cmd('podman'),
    version: ['--version'],
    debian: 'podman',
    neededBy: startsPodman,
  },
  {
    name: 'runc',
    // Podman's runtime here: crun fails on this kernel's cgroups. /usr/sbin is not on every user's PATH.
    candidates: cmd('runc', ['/usr/sbin/runc', '/usr/bin/runc']),
    version: ['--version'],
    debian: 'runc',
    neededBy: startsPodman,
  },
  CONMON,
  CONTAINER_INIT,
  {
    name: 'ldd',
    // The pipeline image holds the Node binary and the shared libraries ldd lists for it.
    candidates: cmd('ldd'),
    version: ['--version'],
    debian: 'libc-bin',
    neededBy: usesContainers,
  },
  {
    name: 'pdftotext',
    // The tests read generated PDFs with poppler's tools (pdftotext, pdffonts, pdfimages), an independent reader.
    candidates: cmd('pdftotext'),
    also: ['pdffonts', 'pdfimages'],
    version: ['-v'],
    debian: 'poppler-utils',
    neededBy: (command) => command === 'test' || command === 'test-unit',
  },
  {
    name: 'docker-compose',
    // The tests validate docker-compose.yml with it.
    candidates: cmd('docker-compose'),
    version: ['--version'],
    debian: 'docker-compose',
    neededBy: (command) => command === 'test',
  },
  {
    name: 'unzip',
    // The tests read the generated workbooks' XML with it.
    candidates: cmd('unzip'),
    version: ['-v'],
    debian: 'unzip',
    neededBy: (command) => command === 'test' || command === 'test-unit',
  },
  {
    name: 'tar',
    candidates: cmd('tar'),
    version: ['--version'],
    debian: 'tar',
    neededBy: (command) => command === 'test',
  },
  POSTGRES,
  SETPRIV,
  {
    name: 'sh',
    candidates: cmd('sh', ['/bin/sh']),
    debian: 'dash',
    neededBy: always,
  },
];

/** What to do about a missing entry. */
export function todoFor(entry) {
  return entry.todo ?? (entry.debian ? `apt-get install ${entry.debian}` : 'install it');
}

/** Every program name the entries account for (what requirements.test.ts compares the code against). */
export function knownPrograms() {
  return new Set(REQUIREMENTS.flatMap((r) => [...(r.candidates ?? []).map((c) => c.program), ...(r.also ?? [])]));
}
