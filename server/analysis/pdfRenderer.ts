import { renderMarkdownPdf } from '../../analysis/artifacts/markdownPdf.js';
import { ApiError } from '../http/errors.js';

/**
 * Markdown rendered as PDF on request, for runs made before pipelines rendered their summaries
 * themselves. Rendering blocks the event loop for a moment, so one render runs at a time, a few wait,
 * and more are refused (503, retry) rather than queued without end; each result is kept by its
 * file's checksum, so a file is rendered once however often it is asked for.
 */
export class PdfRenderer {
  private running = false;
  private readonly waiting: Array<() => void> = [];
  private readonly done = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly o: { maxWaiting: number; maxCached: number } = { maxWaiting: 4, maxCached: 50 }) {}

  render(checksum: string, markdown: () => Promise<string>, title: string): Promise<Uint8Array> {
    const cached = this.done.get(checksum);
    if (cached !== undefined) return cached;
    if (this.running && this.waiting.length >= this.o.maxWaiting) {
      throw new ApiError('service_unavailable', 'busy rendering other PDFs; try again in a moment');
    }
    const pdf = this.inTurn(async () => renderMarkdownPdf(await markdown(), { title, author: 'tradeflow' }));
    this.done.set(checksum, pdf);
    pdf.catch(() => this.done.delete(checksum));
    while (this.done.size > this.o.maxCached) this.done.delete(this.done.keys().next().value!);
    return pdf;
  }

  private async inTurn<T>(f: () => Promise<T>): Promise<T> {
    if (this.running) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running = true;
    try {
      return await f();
    } finally {
      this.running = false;
      this.waiting.shift()?.();
    }
  }
}
