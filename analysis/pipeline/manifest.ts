import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { INPUT_DIR, JOB_SPEC_FILE, MANIFEST_FILE, type ManifestFile } from '../contract.js';

const CONTENT_TYPES: Record<string, string> = {
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.pdf': 'application/pdf',
  '.md': 'text/markdown; charset=utf-8',
  '.json': 'application/json',
  '.log': 'text/plain; charset=utf-8',
};

function kindOf(path: string): ManifestFile['kind'] {
  if (path.endsWith('.log')) return 'log';
  if (path.startsWith('models/') && path.endsWith('.xlsx')) return 'model';
  if (path.startsWith('reports/')) return path.endsWith('.pdf') ? 'report-pdf' : 'report';
  if (path.startsWith('summaries/')) return 'summary';
  return 'data';
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Lists every output file with size and SHA-256; inputs, the spec and the manifest itself are not outputs. */
export async function listOutputs(jobDir: string): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const full of (await walk(jobDir)).sort()) {
    const path = relative(jobDir, full).split(sep).join('/');
    if (path === JOB_SPEC_FILE || path === MANIFEST_FILE || path.startsWith(`${INPUT_DIR}/`) || path.startsWith('.')) {
      continue;
    }
    const [data, info] = await Promise.all([readFile(full), stat(full)]);
    files.push({
      path,
      kind: kindOf(path),
      size: info.size,
      sha256: createHash('sha256').update(data).digest('hex'),
      contentType: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    });
  }
  return files;
}
