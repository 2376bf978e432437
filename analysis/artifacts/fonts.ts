// The DejaVu TTF files the PDF renderer embeds. pdfmake's bundled vfs/Roboto is not used: Roboto lacks Greek,
// Cyrillic and many symbols, and the vfs build does not survive bundling the pipeline into one file.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Set inside the container image (TRADEFLOW_FONTS_DIR=/app/fonts), where node_modules is not beside the bundle. */
export const FONTS_DIR_ENV = 'TRADEFLOW_FONTS_DIR';

export interface FontFamilyFiles {
  normal: string;
  bold: string;
  italics: string;
  bolditalics: string;
}

/** pdfmake font family name → TTF file name per style. */
export const DEJAVU_FAMILIES = {
  DejaVuSans: {
    normal: 'DejaVuSans.ttf',
    bold: 'DejaVuSans-Bold.ttf',
    italics: 'DejaVuSans-Oblique.ttf',
    bolditalics: 'DejaVuSans-BoldOblique.ttf',
  },
  DejaVuSansMono: {
    normal: 'DejaVuSansMono.ttf',
    bold: 'DejaVuSansMono-Bold.ttf',
    italics: 'DejaVuSansMono-Oblique.ttf',
    bolditalics: 'DejaVuSansMono-BoldOblique.ttf',
  },
} as const satisfies Record<string, FontFamilyFiles>;

export type DejaVuFamily = keyof typeof DEJAVU_FAMILIES;

/** Every TTF file name the renderer needs, for copying into an image or checking a fonts folder. */
export const REQUIRED_FONT_FILES: readonly string[] = Object.values(DEJAVU_FAMILIES).flatMap((family) =>
  Object.values(family),
);

/**
 * The folder holding the DejaVu TTF files: $TRADEFLOW_FONTS_DIR when set (it wins, so a bundle never
 * looks for node_modules), else the `ttf` folder of the dejavu-fonts-ttf package, resolved from this module.
 */
export function fontsDir(): string {
  const fromEnv = process.env[FONTS_DIR_ENV]?.trim();
  if (fromEnv) return fromEnv;
  try {
    // The package has no `exports` map, so its package.json resolves directly.
    const packageJson = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json');
    return join(dirname(packageJson), 'ttf');
  } catch (cause) {
    throw new Error(`DejaVu fonts not found: set ${FONTS_DIR_ENV} or install the dejavu-fonts-ttf package`, {
      cause,
    });
  }
}

const loadedFonts = new Map<string, Promise<ReadonlyMap<string, Buffer>>>();

/**
 * Reads every required TTF file from `dir` once per process (about 3 MB), keyed by file name.
 * Fails naming all missing files, so a half-populated fonts folder is caught at the first render.
 */
export function loadFontFiles(dir: string = fontsDir()): Promise<ReadonlyMap<string, Buffer>> {
  let loading = loadedFonts.get(dir);
  if (!loading) {
    loading = readFontFiles(dir);
    // A failed read is not cached: the folder may be fixed without restarting the worker.
    loading.catch(() => loadedFonts.delete(dir));
    loadedFonts.set(dir, loading);
  }
  return loading;
}

async function readFontFiles(dir: string): Promise<ReadonlyMap<string, Buffer>> {
  const results = await Promise.allSettled(REQUIRED_FONT_FILES.map((file) => readFile(join(dir, file))));
  const files = new Map<string, Buffer>();
  const missing: string[] = [];
  results.forEach((result, index) => {
    const file = REQUIRED_FONT_FILES[index]!;
    if (result.status === 'fulfilled') files.set(file, result.value);
    else missing.push(file);
  });
  if (missing.length > 0) {
    throw new Error(`missing font files in ${dir} (${FONTS_DIR_ENV}): ${missing.join(', ')}`);
  }
  return files;
}
