// Post-processing with pdf-lib: document information and an outline (bookmarks) built from the named
// destinations pdfmake wrote for the headings, so bookmarks land exactly where the TOC links land.
import {
  PDFArray,
  type PDFContext,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFNumber,
  type PDFObject,
  type PDFRef,
  PDFString,
} from 'pdf-lib';

export const PDF_PRODUCER = 'tradeflow';
export const PDF_CREATOR = 'tradeflow analysis pipeline (pdfmake + pdf-lib)';

export interface PdfInfo {
  title: string;
  author: string;
  subject?: string;
  keywords?: string[];
  /** Also used as the modification date; defaults to now. */
  creationDate?: Date;
}

/** One bookmark: `destination` is a named destination already in the PDF (a pdfmake node id). */
export interface OutlineEntry {
  title: string;
  destination: string;
  /** 1 = top level; 2 nests under the preceding level-1 entry (or stays top level if there is none). */
  level: 1 | 2;
}

export async function finalizePdf(
  bytes: Uint8Array,
  info: PdfInfo,
  outline: readonly OutlineEntry[],
): Promise<Uint8Array> {
  // updateMetadata: false, or pdf-lib stamps itself as producer and "now" as the modification date.
  const pdf = await PDFDocument.load(bytes, { updateMetadata: false });
  const date = info.creationDate ?? new Date();
  pdf.setTitle(info.title, { showInWindowTitleBar: true });
  pdf.setAuthor(info.author);
  if (info.subject) pdf.setSubject(info.subject);
  if (info.keywords && info.keywords.length > 0) pdf.setKeywords(info.keywords);
  pdf.setProducer(PDF_PRODUCER);
  pdf.setCreator(PDF_CREATOR);
  pdf.setCreationDate(date);
  pdf.setModificationDate(date);

  addOutline(pdf, outline);
  // pdfkit declares PDF 1.3, which predates object streams.
  return pdf.save({ useObjectStreams: false });
}

interface OutlineNode {
  title: string;
  destination: PDFArray;
  children: OutlineNode[];
}

function addOutline(pdf: PDFDocument, entries: readonly OutlineEntry[]): void {
  const destinations = namedDestinations(pdf);
  const roots: OutlineNode[] = [];
  for (const entry of entries) {
    const destination = destinations.get(entry.destination);
    // A heading without a destination was not laid out (e.g. cut by a page limit): no bookmark to point at.
    if (!destination) continue;
    const node: OutlineNode = { title: entry.title, destination, children: [] };
    const parent = entry.level === 2 ? roots.at(-1) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  if (roots.length === 0) return;

  const context = pdf.context;
  const outlinesRef = context.nextRef();
  const { first, last, count } = writeOutlineItems(context, roots, outlinesRef);
  context.assign(outlinesRef, context.obj({ Type: 'Outlines', First: first, Last: last, Count: PDFNumber.of(count) }));
  pdf.catalog.set(PDFName.of('Outlines'), outlinesRef);
  pdf.catalog.set(PDFName.of('PageMode'), PDFName.of('UseOutlines'));
}

/** Writes sibling items (all open) and returns the first/last refs and the number of visible descendants. */
function writeOutlineItems(
  context: PDFContext,
  nodes: readonly OutlineNode[],
  parent: PDFRef,
): { first: PDFRef; last: PDFRef; count: number } {
  const refs = nodes.map(() => context.nextRef());
  let count = 0;
  nodes.forEach((node, index) => {
    const ref = refs[index]!;
    const item: Record<string, PDFObject> = {
      Title: PDFHexString.fromText(node.title),
      Parent: parent,
      Dest: node.destination,
    };
    const previous = refs[index - 1];
    const next = refs[index + 1];
    if (previous) item.Prev = previous;
    if (next) item.Next = next;
    count += 1;
    if (node.children.length > 0) {
      const children = writeOutlineItems(context, node.children, ref);
      item.First = children.first;
      item.Last = children.last;
      item.Count = PDFNumber.of(children.count);
      count += children.count;
    }
    context.assign(ref, context.obj(item));
  });
  return { first: refs[0]!, last: refs.at(-1)!, count };
}

/** Named destinations of the document (catalog /Names /Dests name tree), name → explicit destination array. */
export function namedDestinations(pdf: PDFDocument): Map<string, PDFArray> {
  const out = new Map<string, PDFArray>();
  const names = pdf.catalog.lookupMaybe(PDFName.of('Names'), PDFDict);
  const tree = names?.lookupMaybe(PDFName.of('Dests'), PDFDict);
  if (tree) collectNameTree(tree, out, new Set());
  return out;
}

function collectNameTree(node: PDFDict, out: Map<string, PDFArray>, seen: Set<PDFDict>): void {
  if (seen.has(node)) return;
  seen.add(node);
  const pairs = node.lookupMaybe(PDFName.of('Names'), PDFArray);
  if (pairs) {
    for (let index = 0; index + 1 < pairs.size(); index += 2) {
      const key = pairs.lookup(index);
      const value = pairs.lookup(index + 1);
      const name = key instanceof PDFString || key instanceof PDFHexString ? key.decodeText() : undefined;
      // A destination is either the array itself or a dictionary holding it under /D.
      const destination = value instanceof PDFDict ? value.lookupMaybe(PDFName.of('D'), PDFArray) : value;
      if (name !== undefined && destination instanceof PDFArray) out.set(name, destination);
    }
  }
  const kids = node.lookupMaybe(PDFName.of('Kids'), PDFArray);
  if (kids) {
    for (let index = 0; index < kids.size(); index++) {
      const kid = kids.lookup(index);
      if (kid instanceof PDFDict) collectNameTree(kid, out, seen);
    }
  }
}
