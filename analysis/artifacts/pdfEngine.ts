// pdfmake 0.3 on the server, with the DejaVu fonts served from memory and all file and network access denied.
import pdfmake from 'pdfmake';
import { DEJAVU_FAMILIES, loadFontFiles } from './fonts.js';

export type PdfDocumentDefinition = Parameters<typeof pdfmake.createPdf>[0];

export const PDF_FONT = 'DejaVuSans';
export const PDF_MONO_FONT = 'DejaVuSansMono';

/** The subset of pdfmake's virtual file system interface its server build calls. */
interface FontFileSystem {
  existsSync(name: string): boolean;
  readFileSync(name: string): Buffer;
}

/** Instance state pdfmake's `createPdf` reads from `this`; not part of @types/pdfmake. */
interface PdfmakeInstanceState {
  fonts: typeof DEJAVU_FAMILIES;
  virtualfs: FontFileSystem;
  urlAccessPolicy: (url: string) => boolean;
  localAccessPolicy: (path: string) => boolean;
}

/**
 * Renders a pdfmake document definition to PDF bytes.
 *
 * The `pdfmake` module is a process-wide singleton: its fonts, policies and file system would be shared with any
 * other user in the worker. A private object inheriting its methods keeps ours local. Fonts come from our own
 * in-memory file system (names → buffers read by fonts.ts), which also avoids pdfmake's default virtual file
 * system (it reads `__dirname`, which does not exist once the pipeline is bundled as ESM).
 */
export async function renderPdfDocument(definition: PdfDocumentDefinition): Promise<Uint8Array> {
  const fontFiles = await loadFontFiles();
  const state: PdfmakeInstanceState = {
    // pdfmake rewrites font descriptors in place while resolving them, so each render gets a fresh copy.
    fonts: structuredClone(DEJAVU_FAMILIES),
    virtualfs: {
      existsSync: (name) => fontFiles.has(name),
      readFileSync: (name) => {
        const file = fontFiles.get(name);
        if (!file) throw new Error(`font file ${name} is not loaded`);
        return file;
      },
    },
    // Reports may quote untrusted text: nothing in them may make the renderer fetch a URL or read a file.
    urlAccessPolicy: () => false,
    localAccessPolicy: () => false,
  };
  const engine: typeof pdfmake = Object.assign(Object.create(pdfmake) as typeof pdfmake, state);
  const buffer = await engine.createPdf(definition).getBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
