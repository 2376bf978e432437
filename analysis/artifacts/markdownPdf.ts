// Markdown report → PDF: title block, linked table of contents, body, "Page N of M" footers, metadata, bookmarks.
import type { Content } from 'pdfmake';
import {
  MARKDOWN_STYLES,
  type MarkdownHeading,
  markdownToPdfContent,
  PAGE_MARGIN,
  TOC_MAX_DEPTH,
} from './markdownContent.js';
import { PDF_FONT, type PdfDocumentDefinition, renderPdfDocument } from './pdfEngine.js';
import { finalizePdf, type OutlineEntry } from './pdfFinalize.js';

export interface MarkdownPdfMeta {
  title: string;
  author: string;
  subject?: string;
  keywords?: string[];
  /** Fixes the embedded dates; with the same markdown it makes the output byte-identical. Defaults to now. */
  creationDate?: Date;
}

const DOCUMENT_STYLES: PdfDocumentDefinition['styles'] = {
  ...MARKDOWN_STYLES,
  title: { fontSize: 22, bold: true, margin: [0, 0, 0, 4] },
  byline: { fontSize: 10, color: '#555555', margin: [0, 0, 0, 18] },
  tocTitle: { fontSize: 14, bold: true, margin: [0, 0, 0, 8] },
  footer: { fontSize: 8, color: '#555555' },
};

export async function renderMarkdownPdf(markdown: string, meta: MarkdownPdfMeta): Promise<Uint8Array> {
  const { content, headings } = markdownToPdfContent(markdown);
  dropTrailingMargin(content);
  const definition = documentDefinition(meta, content, headings);
  const rendered = await renderPdfDocument(definition);
  return finalizePdf(rendered, meta, outlineEntries(headings));
}

function documentDefinition(
  meta: MarkdownPdfMeta,
  body: Content[],
  headings: readonly MarkdownHeading[],
): PdfDocumentDefinition {
  const byline = [meta.author, meta.creationDate?.toISOString().slice(0, 10)].filter(Boolean).join(' · ');
  const front: Content[] = [{ text: meta.title, style: 'title' }];
  if (byline) front.push({ text: byline, style: 'byline' });
  const hasToc = headings.some((heading) => heading.depth <= TOC_MAX_DEPTH);
  if (hasToc) front.push({ toc: { title: { text: 'Contents', style: 'tocTitle' }, textMargin: [0, 2, 0, 1] } });

  return {
    pageSize: 'A4',
    pageMargins: [PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN],
    // pdfmake sets the pdfkit info too; pdf-lib rewrites it, but the date also seeds pdfkit's file ID.
    info: { title: meta.title, author: meta.author, creationDate: meta.creationDate ?? new Date() },
    defaultStyle: { font: PDF_FONT, fontSize: 10, lineHeight: 1.25 },
    styles: DOCUMENT_STYLES,
    // The body starts on its own page so the TOC's page numbers read as pages of the report.
    content: hasToc ? [...front, { stack: body, pageBreak: 'before' }] : [...front, ...body],
    footer: (currentPage, pageCount) => ({
      text: `Page ${currentPage} of ${pageCount}`,
      alignment: 'center',
      style: 'footer',
      margin: [0, 18, 0, 0],
    }),
    pageBreakBefore: keepHeadingWithNext,
  };
}

/**
 * Moves a heading to the next page when nothing of its section follows it on its own page. Skipped when the
 * heading already starts its page (a break would only add a blank page) or ends the document.
 */
const keepHeadingWithNext: NonNullable<PdfDocumentDefinition['pageBreakBefore']> = (node, nodes) => {
  if (node.headlineLevel === undefined) return false;
  // pdfmake lists the footer among a page's nodes; enclosing stacks span the page too. Neither is content.
  const isContent = (other: { style?: unknown; stack: boolean }) => other.style !== 'footer' && !other.stack;
  if (nodes.getFollowingNodesOnPage().some(isContent)) return false;
  if (!nodes.getNodesOnNextPage().some(isContent)) return false;
  return nodes.getPreviousNodesOnPage().some(isContent);
};

/**
 * pdfmake moves to a new page when a node's bottom margin does not fit, even after the document's last node,
 * which leaves a blank last page. The last block (and the last nodes nested in it) get no bottom margin.
 */
function dropTrailingMargin(nodes: readonly Content[]): void {
  const last: unknown = nodes.at(-1);
  if (typeof last !== 'object' || last === null) return;
  if (Array.isArray(last)) {
    dropTrailingMargin(last);
    return;
  }
  const node = last as {
    marginBottom?: number;
    stack?: unknown;
    ul?: unknown;
    ol?: unknown;
    table?: { body?: unknown };
  };
  node.marginBottom = 0;
  for (const children of [node.stack, node.ul, node.ol]) {
    if (Array.isArray(children)) dropTrailingMargin(children);
  }
  const lastRow: unknown = Array.isArray(node.table?.body) ? node.table.body.at(-1) : undefined;
  if (Array.isArray(lastRow)) for (const cell of lastRow) dropTrailingMargin([cell]);
}

function outlineEntries(headings: readonly MarkdownHeading[]): OutlineEntry[] {
  return headings
    .filter((heading) => heading.depth <= 2)
    .map((heading) => ({ title: heading.text, destination: heading.id, level: heading.depth === 1 ? 1 : 2 }));
}
