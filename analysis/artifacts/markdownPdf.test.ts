import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFRef, PDFString } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markdownToPdfContent } from './markdownContent.js';
import { renderMarkdownPdf } from './markdownPdf.js';

const NON_ASCII = 'Zürich — Ελληνικά Привет €';

const filler = Array.from(
  { length: 30 },
  (_, i) => `Paragraph ${i + 1}: momentum and volume stayed within their ranges, with no gap larger than two percent.`,
).join('\n\n');

const SAMPLE = `# Executive Summary

The desk rates **AAPL** a *HOLD* with \`fair value\` near $190. Offices: ${NON_ASCII}.

## Price History

| Month | Close | Return |
|:------|------:|-------:|
| 2024-01 | $184.40 | -4.22% |
| 2024-02 | $180.75 | **-1.98%** |

- Momentum is *fading*
- Volume is flat
  - nested detail
1. First step
2. Second step

${filler}

# Risks

## Valuation Risk

> The terminal value carries most of the value.

\`\`\`text
WACC = rf + beta * ERP
\`\`\`

---

### Detail Level Three

Closing remarks.
`;

const META = {
  title: 'AAPL Professional Analysis Report',
  author: 'tradeflow',
  subject: 'AAPL analysis as of 2024-03-01',
  keywords: ['AAPL', 'comprehensive', 'analysis'],
  creationDate: new Date('2024-03-01T12:00:00Z'),
};

let dir: string;
let file: string;
let bytes: Uint8Array;
let pdf: PDFDocument;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tradeflow-pdf-'));
  file = join(dir, 'report.pdf');
  bytes = await renderMarkdownPdf(SAMPLE, META);
  writeFileSync(file, bytes);
  pdf = await PDFDocument.load(bytes, { updateMetadata: false });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const pdftotext = (path: string, ...args: string[]) =>
  execFileSync('pdftotext', ['-layout', ...args, path, '-'], { encoding: 'utf8' });

interface OutlineItem {
  title: string;
  pageIndex: number;
  children: OutlineItem[];
}

/** Walks /Outlines → /First → /Next, resolving each item's explicit /Dest to a page index. */
function readOutline(document: PDFDocument): OutlineItem[] {
  const pageRefs = document.getPages().map((page) => page.ref);
  const walk = (parent: PDFDict): OutlineItem[] => {
    const items: OutlineItem[] = [];
    let item = parent.lookupMaybe(PDFName.of('First'), PDFDict);
    while (item) {
      const title = item.lookup(PDFName.of('Title'));
      const dest = item.lookupMaybe(PDFName.of('Dest'), PDFArray);
      const pageRef = dest?.get(0);
      items.push({
        title: title instanceof PDFHexString || title instanceof PDFString ? title.decodeText() : '',
        pageIndex: pageRef instanceof PDFRef ? pageRefs.indexOf(pageRef) : -1,
        children: walk(item),
      });
      item = item.lookupMaybe(PDFName.of('Next'), PDFDict);
    }
    return items;
  };
  const outlines = document.catalog.lookupMaybe(PDFName.of('Outlines'), PDFDict);
  return outlines ? walk(outlines) : [];
}

describe('renderMarkdownPdf', () => {
  it('renders headings, table cells, lists, code, non-ASCII text and page footers as extractable text', () => {
    const text = pdftotext(file);
    for (const expected of [
      'Executive Summary',
      'Price History',
      'Valuation Risk',
      'Detail Level Three',
      '2024-02',
      '$180.75',
      '-1.98%',
      'Momentum is fading',
      'nested detail',
      'Second step',
      'WACC = rf + beta * ERP',
      NON_ASCII,
      'Page 1 of',
    ]) {
      expect(text).toContain(expected);
    }
  });

  it('starts with a table of contents giving each heading its page', () => {
    const firstPage = pdftotext(file, '-f', '1', '-l', '1');
    expect(firstPage).toContain('Contents');
    const risksPage = readOutline(pdf).find((item) => item.title === 'Risks')!.pageIndex + 1;
    expect(firstPage).toMatch(/Executive Summary\s+2\b/);
    expect(firstPage).toMatch(new RegExp(`Risks\\s+${risksPage}\\b`));
    expect(firstPage).toMatch(/Detail Level Three\s+\d+/);
  });

  it('sets the document metadata', () => {
    expect(pdf.getTitle()).toBe(META.title);
    expect(pdf.getAuthor()).toBe(META.author);
    expect(pdf.getSubject()).toBe(META.subject);
    expect(pdf.getKeywords()).toBe('AAPL comprehensive analysis');
    expect(pdf.getProducer()).toBe('tradeflow');
    expect(pdf.getCreator()).toMatch(/^tradeflow/);
    expect(pdf.getCreationDate()?.toISOString()).toBe(META.creationDate.toISOString());
    expect(pdf.getPageCount()).toBeGreaterThan(2);
  });

  it('has an outline of h1/h2 headings, nested, each pointing at the page that shows the heading', () => {
    const outline = readOutline(pdf);
    const shape = (items: OutlineItem[]): unknown => items.map((item) => [item.title, shape(item.children)]);
    expect(shape(outline)).toEqual([
      ['Executive Summary', [['Price History', []]]],
      ['Risks', [['Valuation Risk', []]]],
    ]);
    for (const item of [...outline, ...outline.flatMap((entry) => entry.children)]) {
      expect(item.pageIndex, item.title).toBeGreaterThan(0);
      const page = pdftotext(file, '-f', String(item.pageIndex + 1), '-l', String(item.pageIndex + 1));
      expect(page, item.title).toContain(item.title);
    }
    expect(pdf.catalog.lookup(PDFName.of('PageMode'))).toBe(PDFName.of('UseOutlines'));
  });

  it('links each TOC entry to its heading through an internal destination', () => {
    const annotations = pdf.getPage(0).node.lookupMaybe(PDFName.of('Annots'), PDFArray);
    const targets = new Set<string>();
    for (let index = 0; index < (annotations?.size() ?? 0); index++) {
      const annotation = annotations!.lookup(index, PDFDict);
      expect(annotation.lookup(PDFName.of('Subtype'))).toBe(PDFName.of('Link'));
      const action = annotation.lookup(PDFName.of('A'), PDFDict);
      expect(action.lookup(PDFName.of('S'))).toBe(PDFName.of('GoTo'));
      const destination = action.lookup(PDFName.of('D'));
      if (destination instanceof PDFString || destination instanceof PDFHexString)
        targets.add(destination.decodeText());
    }
    // Five TOC entries (h1–h3); each must name a destination that the document defines.
    expect(targets.size).toBe(5);
    const names = pdf.catalog.lookup(PDFName.of('Names'), PDFDict).lookup(PDFName.of('Dests'), PDFDict);
    const defined = names.lookup(PDFName.of('Names'), PDFArray);
    const definedNames = new Set<string>();
    for (let index = 0; index < defined.size(); index += 2) {
      definedNames.add((defined.lookup(index) as PDFString | PDFHexString).decodeText());
    }
    for (const target of targets) expect(definedNames).toContain(target);
  });

  it('embeds the DejaVu fonts', () => {
    const rows = execFileSync('pdffonts', [file], { encoding: 'utf8' }).trim().split('\n').slice(2);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const row of rows) {
      expect(row).toMatch(/DejaVuSans/);
      // Columns: name type encoding emb sub uni object ID.
      const [emb] = row.trim().split(/\s+/).slice(-5);
      expect(emb, row).toBe('yes');
    }
    expect(rows.some((row) => row.includes('DejaVuSansMono'))).toBe(true);
  });

  it('is byte-identical for the same input and creation date', async () => {
    expect(Buffer.from(await renderMarkdownPdf(SAMPLE, META)).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('renderMarkdownPdf page breaks', () => {
  // Paragraph counts found to push, without the fixes, the last h1 onto a blank page of its own margin (29)
  // and the h2 to the very bottom of page 2 (32).
  it.each([29, 32])('keeps a heading with its section and adds no blank last page (%i paragraphs)', async (count) => {
    const paragraphs = Array.from({ length: count }, (_, i) => `Para ${i} text text text.`).join('\n\n');
    const markdown = `# Start\n\n${paragraphs}\n\n## Orphan Candidate\n\nBody after heading.\n\n# End`;
    const path = join(dir, `breaks-${count}.pdf`);
    writeFileSync(path, await renderMarkdownPdf(markdown, { title: 'T', author: 'A' }));
    const pages = pdftotext(path).split('\f').slice(0, -1);
    for (const [index, page] of pages.entries()) {
      const lines = page
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !/^Page \d+ of \d+$/.test(line));
      expect(lines.length, `page ${index + 1} is blank`).toBeGreaterThan(0);
      expect(lines.at(-1), `page ${index + 1} ends with a heading`).not.toBe('Orphan Candidate');
    }
  });
});

describe('renderMarkdownPdf on odd markdown', () => {
  it.each([
    ['empty input', ''],
    ['only whitespace', '   \n\n  '],
    [
      'raw html and a script',
      '<div class="x">inside <b>div</b></div>\n\n<script>alert(1)</script>\n\nText <span>inline</span> &amp; &copy; &#x20AC;',
    ],
    ['images and links', '![price chart](https://example.com/chart.png) and ![](local.png) and [rel](./x.md)'],
    ['empty heading and ragged table', '#\n\n| a | b |\n|---|---|\n| 1 |\n| 1 | 2 | 3 |\n\n- [x] done\n- [ ] open'],
    ['a very long word and tabs', `${'x'.repeat(500)}\n\n\`\`\`\n\tindented\twith tabs\n\`\`\``],
  ])('renders %s without throwing', async (_, markdown) => {
    const output = await renderMarkdownPdf(markdown, { title: 'Odd input', author: 'tradeflow' });
    const document = await PDFDocument.load(output);
    expect(document.getPageCount()).toBeGreaterThanOrEqual(1);
    expect(document.getTitle()).toBe('Odd input');
  });

  it('renders image alt text and decodes character references', () => {
    const { content } = markdownToPdfContent('![price chart](x.png) &amp; &copy; <b>bold</b>');
    expect(JSON.stringify(content)).toContain('[price chart]');
    expect(JSON.stringify(content)).toContain('& ©');
    expect(JSON.stringify(content)).not.toContain('<b>');
  });
});
