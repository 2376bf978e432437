import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FONTS_DIR_ENV, fontsDir, loadFontFiles, REQUIRED_FONT_FILES } from './fonts.js';
import { renderMarkdownPdf } from './markdownPdf.js';

const saved = process.env[FONTS_DIR_ENV];
const dirs: string[] = [];
afterEach(() => {
  if (saved === undefined) delete process.env[FONTS_DIR_ENV];
  else process.env[FONTS_DIR_ENV] = saved;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tradeflow-fonts-'));
  dirs.push(dir);
  return dir;
}

describe('fontsDir', () => {
  it('defaults to the dejavu-fonts-ttf package folder, which holds every required file', () => {
    delete process.env[FONTS_DIR_ENV];
    const dir = fontsDir();
    expect(dir).toMatch(/dejavu-fonts-ttf[/\\]ttf$/);
    for (const file of REQUIRED_FONT_FILES) expect(existsSync(join(dir, file)), file).toBe(true);
  });

  it('prefers TRADEFLOW_FONTS_DIR, and the renderer reads the fonts from there', async () => {
    delete process.env[FONTS_DIR_ENV];
    const packaged = fontsDir();
    const dir = tempDir();
    for (const file of REQUIRED_FONT_FILES) copyFileSync(join(packaged, file), join(dir, file));
    process.env[FONTS_DIR_ENV] = dir;
    expect(fontsDir()).toBe(dir);
    const file = join(dir, 'out.pdf');
    writeFileSync(file, await renderMarkdownPdf('# Fonts from the env folder', { title: 'T', author: 'A' }));
    expect(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' })).toContain('Fonts from the env folder');
  });

  it('names every missing file when the folder is incomplete', async () => {
    const dir = tempDir();
    await expect(loadFontFiles(dir)).rejects.toThrow(/DejaVuSans\.ttf.*DejaVuSansMono-BoldOblique\.ttf/);
  });
});
