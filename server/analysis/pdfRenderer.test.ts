import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/errors.js';
import { PdfRenderer } from './pdfRenderer.js';

describe('PdfRenderer', () => {
  it('renders a file once however often it is asked for', async () => {
    const r = new PdfRenderer();
    let reads = 0;
    const markdown = async () => {
      reads += 1;
      return '# Summary\n\nText.';
    };
    const [a, b] = await Promise.all([r.render('sha-1', markdown, 't'), r.render('sha-1', markdown, 't')]);
    expect(a).toBe(b);
    expect(Buffer.from(a.slice(0, 5)).toString()).toBe('%PDF-');
    expect(reads).toBe(1);
  });

  it('renders one at a time, lets a few wait, and refuses the rest with a 503', async () => {
    const r = new PdfRenderer({ maxWaiting: 2, maxCached: 10 });
    const asks = Array.from({ length: 6 }, (_, i) => {
      try {
        return r.render(`sha-${i}`, async () => `# Doc ${i}`, 't').then(() => 'rendered');
      } catch (err) {
        return Promise.resolve(err instanceof ApiError ? err.code : 'other');
      }
    });
    expect(await Promise.all(asks)).toEqual([
      'rendered',
      'rendered',
      'rendered',
      'service_unavailable',
      'service_unavailable',
      'service_unavailable',
    ]);
  });
});
