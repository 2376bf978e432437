// Maps marked's token tree to pdfmake content. marked only lexes here: its HTML renderer is of no use for a PDF,
// and walking the tokens keeps every construct explicit (unknown ones degrade to their text, never throw).
import { marked, type Token, type Tokens } from 'marked';
import type { Content, Style, TableCell, TableLayout } from 'pdfmake';
import type { ContentText } from 'pdfmake/interfaces.js';
import { PDF_MONO_FONT } from './pdfEngine.js';

/** A heading that got an anchor: the TOC links to it and the PDF outline points at it. */
export interface MarkdownHeading {
  /** pdfmake node id, also the PDF named destination. */
  id: string;
  text: string;
  depth: number;
}

export interface MarkdownContent {
  content: Content[];
  headings: MarkdownHeading[];
}

/** Headings down to this depth get a TOC line. */
export const TOC_MAX_DEPTH = 3;

/** A4 page margin on every side, in points; the document builder uses it too. */
export const PAGE_MARGIN = 50;
/** Usable width of the A4 page body in points, for rules drawn across it. */
export const BODY_WIDTH = 595.28 - 2 * PAGE_MARGIN;

const LINK_COLOR = '#1a4f9c';
const MUTED_COLOR = '#555555';
const CODE_BACKGROUND = '#f2f2f2';
const RULE_COLOR = '#999999';

/** The styles the mapped content refers to by name. */
export const MARKDOWN_STYLES: Record<string, Style> = {
  h1: { fontSize: 18, bold: true, margin: [0, 14, 0, 6] },
  h2: { fontSize: 15, bold: true, margin: [0, 12, 0, 5] },
  h3: { fontSize: 12.5, bold: true, margin: [0, 10, 0, 4] },
  h4: { fontSize: 11, bold: true, italics: true, margin: [0, 8, 0, 3] },
  paragraph: { margin: [0, 0, 0, 6] },
  list: { margin: [0, 0, 0, 6] },
  block: { margin: [0, 2, 0, 8] },
  rule: { margin: [0, 6, 0, 10] },
  table: { margin: [0, 2, 0, 10], fontSize: 9 },
  tableHeader: { bold: true, fillColor: '#eeeeee' },
};

const codeBlockLayout: TableLayout = {
  hLineWidth: () => 0,
  vLineWidth: () => 0,
  fillColor: () => CODE_BACKGROUND,
  paddingLeft: () => 6,
  paddingRight: () => 6,
  paddingTop: () => 4,
  paddingBottom: () => 4,
};

const blockquoteLayout: TableLayout = {
  hLineWidth: () => 0,
  vLineWidth: (index) => (index === 0 ? 2 : 0),
  vLineColor: () => '#bbbbbb',
  paddingLeft: () => 8,
};

export function markdownToPdfContent(markdown: string): MarkdownContent {
  const headings: MarkdownHeading[] = [];
  // Explicit (fresh) options: without them marked.lexer uses the process-wide defaults that marked.use() changes.
  const content = blockContent(marked.lexer(markdown, { gfm: true }), headings);
  return { content, headings };
}

function blockContent(tokens: readonly Token[], headings: MarkdownHeading[]): Content[] {
  const out: Content[] = [];
  for (const token of tokens) {
    const mapped = blockToken(token, headings);
    if (mapped !== null) out.push(mapped);
  }
  return out;
}

function blockToken(token: Token, headings: MarkdownHeading[]): Content | null {
  switch (token.type) {
    case 'space':
    case 'def':
      return null;
    case 'heading':
      return heading(token as Tokens.Heading, headings);
    case 'paragraph':
      return { text: inlineContent((token as Tokens.Paragraph).tokens), style: 'paragraph' };
    case 'text': {
      // Block-level text appears in tight list items; it may carry inline tokens.
      const text = token as Tokens.Text;
      return { text: inlineContent(text.tokens ?? [text]), style: 'paragraph' };
    }
    case 'list':
      return list(token as Tokens.List, headings);
    case 'code':
      return codeBlock((token as Tokens.Code).text);
    case 'blockquote':
      return {
        table: { widths: ['*'], body: [[{ stack: blockContent((token as Tokens.Blockquote).tokens, headings) }]] },
        layout: blockquoteLayout,
        color: MUTED_COLOR,
        style: 'block',
      };
    case 'hr':
      return {
        canvas: [{ type: 'line', x1: 0, y1: 0, x2: BODY_WIDTH, y2: 0, lineWidth: 0.5, lineColor: RULE_COLOR }],
        style: 'rule',
      };
    case 'table':
      return table(token as Tokens.Table);
    case 'html': {
      const text = htmlToText((token as Tokens.HTML).text).trim();
      return text ? { text, style: 'paragraph', color: MUTED_COLOR } : null;
    }
    case 'checkbox':
      return checkboxMarker((token as Tokens.Checkbox).checked);
    default: {
      // Tokens from extensions or future marked versions: keep their text rather than fail a report.
      const generic = token as Tokens.Generic;
      if (Array.isArray(generic.tokens)) return { stack: blockContent(generic.tokens, headings) };
      const text: unknown = generic.text;
      return typeof text === 'string' && text.trim() ? { text: decodeEntities(text), style: 'paragraph' } : null;
    }
  }
}

function heading(token: Tokens.Heading, headings: MarkdownHeading[]): Content | null {
  // Plain text: pdfmake's TOC copies the node's text, and styled runs would not match the TOC's own style.
  const text = plainText(token.tokens).replace(/\s+/g, ' ').trim();
  if (!text) return null;
  const depth = Math.min(Math.max(token.depth, 1), 6);
  const id = `heading-${headings.length + 1}`;
  headings.push({ id, text, depth });
  const style = `h${Math.min(depth, 4)}`;
  if (depth > TOC_MAX_DEPTH) return { text, id, style, headlineLevel: depth };
  return {
    text,
    id,
    style,
    headlineLevel: depth,
    tocItem: true,
    tocStyle: depth === 1 ? { bold: true } : {},
    tocMargin: [(depth - 1) * 14, depth === 1 ? 5 : 2, 0, 1],
  };
}

function list(token: Tokens.List, headings: MarkdownHeading[]): Content {
  const items = token.items.map((item) => listItem(item, headings));
  if (token.ordered) {
    const start = typeof token.start === 'number' ? token.start : 1;
    return { ol: items, start, style: 'list' };
  }
  // A task item's checkbox is its marker, as on GitHub.
  return {
    ul: items.map((item, index) => (token.items[index]?.task ? { stack: [item], listType: 'none' } : item)),
    style: 'list',
  };
}

function listItem(item: Tokens.ListItem, headings: MarkdownHeading[]): Content {
  const tokens = item.tokens.filter((token) => token.type !== 'checkbox');
  const blocks = blockContent(tokens, headings);
  if (item.task) {
    // The checkbox belongs on the item's first line, not on a line of its own.
    const marker = checkboxMarker(item.checked === true);
    const first = tokens[0];
    if (first && (first.type === 'text' || first.type === 'paragraph')) {
      const inlines = inlineContent((first as Tokens.Text).tokens ?? [first]);
      blocks[0] = { text: [marker, ...inlines], style: 'paragraph' };
    } else {
      blocks.unshift(marker);
    }
  }
  // Tight items carry paragraph spacing from the text token; the list's own margin spaces the list.
  const [only] = blocks;
  if (blocks.length === 1 && only !== undefined) return only;
  return { stack: blocks };
}

function checkboxMarker(checked: boolean): ContentText {
  return { text: checked ? '\u2611 ' : '\u2610 ' };
}

function codeBlock(code: string): Content {
  return {
    table: {
      widths: ['*'],
      body: [
        [
          {
            // Tabs have no glyph in the PDF font, so they are expanded; leading spaces carry the indentation.
            text: code.replace(/\t/g, '    ') || ' ',
            font: PDF_MONO_FONT,
            fontSize: 8.5,
            lineHeight: 1.15,
            preserveLeadingSpaces: true,
          },
        ],
      ],
    },
    layout: codeBlockLayout,
    style: 'block',
  };
}

function table(token: Tokens.Table): Content {
  const columns = token.header.length;
  if (columns === 0) return { text: '' };
  const cell = (source: Tokens.TableCell | undefined, isHeader: boolean): TableCell => ({
    text: source ? inlineContent(source.tokens) : '',
    alignment: source?.align ?? 'left',
    ...(isHeader ? { style: 'tableHeader' } : {}),
  });
  // Rows are padded or cut to the header's width: pdfmake needs a rectangular body.
  const row = (cells: readonly Tokens.TableCell[], isHeader: boolean): TableCell[] =>
    Array.from({ length: columns }, (_, index) => cell(cells[index], isHeader));
  return {
    table: {
      headerRows: 1,
      widths: Array.from({ length: columns }, () => '*'),
      body: [row(token.header, true), ...token.rows.map((cells) => row(cells, false))],
    },
    layout: 'lightHorizontalLines',
    style: 'table',
  };
}

interface InlineStyle {
  bold?: boolean;
  italics?: boolean;
  code?: boolean;
  strike?: boolean;
  link?: string;
}

/** Flattens nested inline tokens into styled runs (pdfmake's own nesting of inline styles is not relied on). */
function inlineContent(tokens: readonly Token[], style: InlineStyle = {}): ContentText[] {
  return tokens.flatMap((token) => inlineToken(token, style));
}

function inlineToken(token: Token, style: InlineStyle): ContentText[] {
  switch (token.type) {
    case 'text': {
      const text = token as Tokens.Text;
      if (text.tokens && text.tokens.length > 0) return inlineContent(text.tokens, style);
      return [run(decodeEntities(text.text), style)];
    }
    case 'escape':
      return [run((token as Tokens.Escape).text, style)];
    case 'strong':
      return inlineContent((token as Tokens.Strong).tokens, { ...style, bold: true });
    case 'em':
      return inlineContent((token as Tokens.Em).tokens, { ...style, italics: true });
    case 'del':
      return inlineContent((token as Tokens.Del).tokens, { ...style, strike: true });
    case 'codespan':
      return [run((token as Tokens.Codespan).text, { ...style, code: true })];
    case 'br':
      return [run('\n', style)];
    case 'link': {
      const link = token as Tokens.Link;
      const href = isExternalUrl(link.href) ? link.href : undefined;
      const children = link.tokens.length > 0 ? link.tokens : [{ type: 'text', raw: link.text, text: link.text }];
      return inlineContent(children, href ? { ...style, link: href } : style);
    }
    case 'image': {
      // Images are not fetched (no network or file access while rendering): the alt text stands in.
      const alt = decodeEntities((token as Tokens.Image).text).trim();
      return [{ ...run(alt ? `[${alt}]` : '[image]', { ...style, italics: true }), color: MUTED_COLOR }];
    }
    case 'html': {
      const text = htmlToText((token as Tokens.Tag).text);
      return text ? [run(text, style)] : [];
    }
    case 'checkbox':
      return [checkboxMarker((token as Tokens.Checkbox).checked)];
    default: {
      const generic = token as Tokens.Generic;
      if (Array.isArray(generic.tokens)) return inlineContent(generic.tokens, style);
      const text: unknown = generic.text;
      return typeof text === 'string' && text ? [run(decodeEntities(text), style)] : [];
    }
  }
}

function run(text: string, style: InlineStyle): ContentText {
  const out: ContentText = { text };
  if (style.bold) out.bold = true;
  if (style.italics) out.italics = true;
  if (style.code) {
    out.font = PDF_MONO_FONT;
    out.background = CODE_BACKGROUND;
    out.fontSize = 9;
  }
  if (style.link) {
    out.link = style.link;
    out.color = LINK_COLOR;
  }
  const decorations = [style.link ? 'underline' : undefined, style.strike ? 'lineThrough' : undefined].filter(
    (decoration): decoration is 'underline' | 'lineThrough' => decoration !== undefined,
  );
  if (decorations.length === 1) out.decoration = decorations[0];
  else if (decorations.length > 1) out.decoration = decorations;
  return out;
}

function plainText(tokens: readonly Token[]): string {
  return inlineContent(tokens)
    .map((piece) => (typeof piece.text === 'string' ? piece.text : ''))
    .join('');
}

function isExternalUrl(href: string): boolean {
  return /^(https?:|mailto:)/i.test(href.trim());
}

function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<[^>]*>/g, ''),
  );
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '\u00a9',
  reg: '\u00ae',
  trade: '\u2122',
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
  euro: '\u20ac',
  pound: '\u00a3',
  yen: '\u00a5',
  deg: '\u00b0',
  times: '\u00d7',
  middot: '\u00b7',
};

/** marked leaves character references in text tokens for its HTML output; a PDF needs the characters. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1));
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });
}
