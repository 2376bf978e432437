// The analysis sandbox image, built without a registry: a root file system holding only the Node 24
// binary, the shared libraries it links, the pipeline bundled into one file and the report fonts,
// imported through the Docker API (`POST /images/create?fromSrc=-`). Where a registry is reachable,
// sandbox/Dockerfile builds the same layout on node:24-slim from `writeBuildContext`'s folder.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Dockerode from 'dockerode';
import { build } from 'esbuild';
import { create as createTar } from 'tar';
import type { SandboxLog } from './types.js';

export const SANDBOX_IMAGE_REPO = 'tradeflow-pipeline';
export const IMAGE_NODE = '/usr/local/bin/node';
export const IMAGE_PIPELINE = '/app/pipeline.mjs';
export const IMAGE_FONTS_DIR = '/app/fonts';
/** Bump when the image layout below changes, so the content tag changes with it. */
const IMAGE_LAYOUT_VERSION = '1';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PIPELINE_MAIN = join(REPO_ROOT, 'sandbox', 'pipelineMain.ts');
const FONTS_SOURCE = join(REPO_ROOT, 'node_modules', 'dejavu-fonts-ttf', 'ttf');

// CommonJS dependencies bundled into ESM still call require() and read __dirname/__filename.
const ESM_BANNER = [
  "import { createRequire as __tfCreateRequire } from 'node:module';",
  "import { fileURLToPath as __tfFileURLToPath } from 'node:url';",
  "import { dirname as __tfDirname } from 'node:path';",
  'const require = __tfCreateRequire(import.meta.url);',
  'const __filename = __tfFileURLToPath(import.meta.url);',
  'const __dirname = __tfDirname(__filename);',
].join('\n');

export const IMAGE_CHANGES = [
  `ENTRYPOINT ${JSON.stringify([IMAGE_NODE, IMAGE_PIPELINE])}`,
  `ENV TRADEFLOW_FONTS_DIR=${IMAGE_FONTS_DIR}`,
  'ENV TZ=UTC',
  'ENV PATH=/usr/local/bin:/usr/bin:/bin',
  'ENV NODE_ENV=production',
  'WORKDIR /job',
];

/** The pipeline and all its npm dependencies as one ESM file. */
export async function bundlePipeline(entry = PIPELINE_MAIN): Promise<{ code: Uint8Array; warnings: string[] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    write: false,
    outfile: 'pipeline.mjs',
    banner: { js: ESM_BANNER },
    logLevel: 'silent',
    legalComments: 'none',
  });
  const [out] = result.outputFiles;
  if (!out) throw new Error('esbuild produced no output');
  return { code: out.contents, warnings: result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`) };
}

/** The Node binary to ship: the npm `node` package's (node_modules/.bin/node is a symlink into it). */
export function nodeBinary(): string {
  try {
    return realpathSync(join(REPO_ROOT, 'node_modules', '.bin', 'node'));
  } catch {
    return realpathSync(process.execPath);
  }
}

/** Absolute paths `ldd` lists for a binary (resolved libraries and the dynamic loader). */
export function sharedLibraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ldd ${binary} failed: ${r.stderr || r.error?.message}`);
  const libs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (line.includes('not found')) throw new Error(`ldd ${binary}: ${line.trim()}`);
    const match = line.match(/=>\s*(\/\S+)/) ?? line.match(/^\s*(\/\S+)/);
    if (match?.[1]) libs.push(match[1]);
  }
  return libs;
}

export function fontFiles(): string[] {
  return readdirSync(FONTS_SOURCE)
    .filter((f) => /^DejaVuSans.*\.ttf$/.test(f))
    .sort();
}

export interface BuildSandboxImageOptions {
  tag?: string;
  /** What /app/pipeline.mjs bundles; default sandbox/pipelineMain.ts. */
  entry?: string;
  log?: SandboxLog;
}

/**
 * Builds (or finds) `tradeflow-pipeline:<content hash>`; an unchanged pipeline, Node binary and font
 * set give the same tag and skip the build.
 */
export async function buildSandboxImage(
  docker: Dockerode,
  opts: BuildSandboxImageOptions = {},
): Promise<{ image: string; built: boolean; ms: number }> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const elapsed = () => Math.round(performance.now() - started);

  const { code, warnings } = await bundlePipeline(opts.entry);
  for (const w of warnings) log('esbuild warning', { warning: w });
  const node = nodeBinary();
  const nodeVersion = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const fonts = fontFiles();
  const hash = createHash('sha256')
    .update(IMAGE_LAYOUT_VERSION)
    .update(code)
    .update(nodeVersion)
    .update(fonts.join('\n'))
    .digest('hex')
    .slice(0, 12);
  const image = opts.tag ?? `${SANDBOX_IMAGE_REPO}:${hash}`;
  if (await imageId(docker, image)) return { image, built: false, ms: elapsed() };

  const work = mkdtempSync(join(tmpdir(), 'tradeflow-image-'));
  try {
    const rootfs = join(work, 'rootfs');
    assembleRootfs(rootfs, { code, node, fonts });
    const tarFile = join(work, 'rootfs.tar');
    await createTar({ cwd: rootfs, file: tarFile, portable: true }, readdirSync(rootfs));
    await importRootfs(docker, tarFile, image);
    log('built the sandbox image', { image, nodeVersion, ms: elapsed() });
    return { image, built: true, ms: elapsed() };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function assembleRootfs(rootfs: string, o: { code: Uint8Array; node: string; fonts: string[] }): void {
  const put = (path: string, from: string, mode: number) => {
    const target = join(rootfs, path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(from, target); // follows symlinks: the real file lands at the listed path
    chmodSync(target, mode);
  };
  for (const dir of ['job', 'proc', 'sys', 'dev', 'etc', 'root', 'usr/bin', 'bin']) {
    mkdirSync(join(rootfs, dir), { recursive: true });
  }
  mkdirSync(join(rootfs, 'tmp'));
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  put(IMAGE_NODE, o.node, 0o755);
  for (const lib of sharedLibraries(o.node)) put(lib, lib, 0o755);
  mkdirSync(join(rootfs, dirname(IMAGE_PIPELINE)), { recursive: true });
  writeFileSync(join(rootfs, IMAGE_PIPELINE), o.code);
  for (const font of o.fonts) put(join(IMAGE_FONTS_DIR, font), join(FONTS_SOURCE, font), 0o644);
  writeFileSync(
    join(rootfs, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n',
  );
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
}

async function imageId(docker: Dockerode, image: string): Promise<string | null> {
  try {
    return (await docker.getImage(image).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}

async function importRootfs(docker: Dockerode, tarFile: string, image: string): Promise<void> {
  const [repo, tag = 'latest'] = splitTag(image);
  const stream = await docker.importImage(tarFile, { repo, tag, changes: IMAGE_CHANGES, message: 'tradeflow sandbox' });
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  const messages = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l) as { status?: string; error?: string; errorDetail?: { message?: string } };
      } catch {
        return { error: l };
      }
    });
  const failed = messages.find((m) => m.error || m.errorDetail);
  if (failed) throw new Error(`image import failed: ${failed.errorDetail?.message ?? failed.error}`);
  const id = messages.map((m) => m.status?.match(/sha256:[0-9a-f]{64}/)?.[0]).find(Boolean);
  if (!id) throw new Error(`image import returned no image id: ${text.slice(0, 500)}`);
  // A parallel build (another worker, another test file) may have finished the same content first:
  // keep its image rather than leave one of the two untagged.
  const current = await imageId(docker, image);
  if (current === id) return; // Docker honours repo/tag on import
  if (current) {
    await docker
      .getImage(id)
      .remove()
      .catch(() => {});
    return;
  }
  // Podman 4.3 ignores repo/tag on import (it tags `:latest`); tagging by id works on both engines.
  await docker.getImage(id).tag({ repo, tag });
}

function splitTag(image: string): [string, string | undefined] {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? [image.slice(0, colon), image.slice(colon + 1)] : [image, undefined];
}

/** The folder sandbox/Dockerfile builds from: `docker build -f sandbox/Dockerfile <dir>`. */
export async function writeBuildContext(dir: string): Promise<void> {
  const { code } = await bundlePipeline();
  mkdirSync(join(dir, 'fonts'), { recursive: true });
  writeFileSync(join(dir, 'pipeline.mjs'), code);
  for (const font of fontFiles()) copyFileSync(join(FONTS_SOURCE, font), join(dir, 'fonts', font));
}

// CLI: `node --import tsx sandbox/image.ts` builds the image through DOCKER_HOST, Docker or a
// temporary Podman service; `... image.ts --context <dir>` only writes the Dockerfile's context.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const contextAt = process.argv.indexOf('--context');
  if (contextAt !== -1) {
    const dir = process.argv[contextAt + 1];
    if (!dir) throw new Error('--context needs a folder');
    await writeBuildContext(dir);
    console.log(
      `wrote the build context to ${dir}; now: docker build -f sandbox/Dockerfile -t tradeflow-pipeline ${dir}`,
    );
  } else {
    const { ensureDockerApi } = await import('../devstack/podman.js');
    const dir = mkdtempSync(join(tmpdir(), 'tradeflow-docker-api-'));
    const api = await ensureDockerApi({ dir, log: (m) => console.error(m) });
    try {
      const result = await buildSandboxImage(new Dockerode({ socketPath: api.socketPath }), {
        log: (m, f) => console.error(m, f ?? ''),
      });
      console.log(JSON.stringify(result));
    } finally {
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
