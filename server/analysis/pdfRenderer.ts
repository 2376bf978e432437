import { renderMarkdownPdf } from '../../analysis/artifacts/markdownPdf.js';
import { RenderTurns } from '../http/renderTurns.js';

/**
 * Markdown rendered as PDF on request, for runs made before pipelines rendered their summaries
 * themselves. Rendering blocks the event loop for a moment, so one render runs at a time, a few wait,
 * and more are refused (503, retry) rather than queued without end; each result is kept by its
 * file's checksum, so a file is rendered once however often it is asked for.
 */
export class PdfRenderer {
  private readonly done = new Map<string, Promise<Uint8Array>>();
  private readonly turns: RenderTurns;

  constructor(private readonly o: { maxWaiting: number; maxCached: number } = { maxWaiting: 4, maxCached: 50 }) {
    this.turns = new RenderTurns(o.maxWaiting);
  }

  render(checksum: string, markdown: () => Promise<string>, title: string): Promise<Uint8Array> {
    const cached = this.done.get(checksum);
    if (cached !== undefined) return cached;
    const pdf = this.turns.run(async () => renderMarkdownPdf(await markdown(), { title, author: 'tradeflow' }));
    this.done.set(checksum, pdf);
    pdf.catch(() => this.done.delete(checksum));
    while (this.done.size > this.o.maxCached) this.done.delete(this.done.keys().next().value!);
    return pdf;
  }
}
