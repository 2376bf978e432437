import { createReadStream } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { create as createTar } from 'tar';
import type { ManifestFile } from '../../analysis/contract.js';
import { MANIFEST_FILE } from '../../analysis/contract.js';
import type { AnalysisJob } from '../../jobs/records.js';
import { ApiError } from '../http/errors.js';

/**
 * Named downloads (api-runner's names) and the manifest path each one means. A Map: the name comes from
 * the request, and a plain object would answer `__proto__` or `valueOf` with something that is not a path.
 */
export const NAMED_ARTIFACTS: ReadonlyMap<string, (ticker: string) => string> = new Map([
  ['financial-model', (t: string) => `models/${t}_financial_model.xlsx`],
  ['professional-report', (t: string) => `reports/${t}_Professional_Analysis_Report.pdf`],
  ['professional-report-markdown', (t: string) => `reports/${t}_Professional_Analysis_Report.md`],
  ['financial-summary', (t: string) => `summaries/${t}_financial_summary.md`],
  ['news-summary', (t: string) => `summaries/${t}_news_summary.md`],
  ['price-adjustment', (t: string) => `models/${t}_price_adjustment_explanation.md`],
  ['execution-log', () => 'info.log'],
]);

export function runDirOf(dataDir: string, job: AnalysisJob): string {
  return resolve(dataDir, job.analysis.runDir);
}

function inside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Finds a file of the run that the manifest lists, and proves it is inside the run folder: the path
 * must be a manifest entry, must not climb out, and must not be (or pass through) a symlink, which a
 * container could have planted to reach the host's files.
 */
export async function resolveRunFile(
  dataDir: string,
  job: AnalysisJob,
  path: string,
): Promise<{ full: string; entry: ManifestFile }> {
  const manifest = job.analysis.manifest;
  if (!manifest) throw new ApiError('file_not_available', `job ${job._id} has no files yet (status ${job.status})`);
  const entry = manifest.files.find((f) => f.path === path);
  if (!entry) {
    throw new ApiError('file_not_available', `job ${job._id} has no file ${JSON.stringify(path)}`, {
      files: manifest.files.map((f) => f.path),
    });
  }
  const root = runDirOf(dataDir, job);
  const full = resolve(root, entry.path);
  if (!inside(root, full)) throw new ApiError('file_not_available', `path ${JSON.stringify(path)} is outside the run`);
  try {
    const info = await lstat(full);
    const realRoot = await realpath(root);
    if (!info.isFile() || !inside(realRoot, await realpath(full))) throw new Error('not a regular file inside the run');
  } catch {
    throw new ApiError('file_not_available', `file ${JSON.stringify(path)} of job ${job._id} is no longer available`);
  }
  return { full, entry };
}

export function fileStream(full: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(createReadStream(full)) as ReadableStream<Uint8Array>;
}

/** A tar of the run's manifest files (and the manifest), each checked like a single download. */
export async function runTar(dataDir: string, job: AnalysisJob): Promise<ReadableStream<Uint8Array>> {
  const files: string[] = [];
  for (const f of job.analysis.manifest?.files ?? [])
    files.push((await resolveRunFile(dataDir, job, f.path)).entry.path);
  const root = runDirOf(dataDir, job);
  const manifestPath = join(root, MANIFEST_FILE);
  if ((await lstat(manifestPath).catch(() => null))?.isFile()) files.push(MANIFEST_FILE);
  const stream = createTar({ cwd: root, portable: true, follow: false, noDirRecurse: true }, files);
  // tar's stream is a minipass, async-iterable but not a Node Readable.
  return Readable.toWeb(Readable.from(stream as AsyncIterable<Uint8Array>)) as ReadableStream<Uint8Array>;
}
