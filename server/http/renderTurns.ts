import { ApiError } from './errors.js';

/**
 * Renders that block the event loop for a moment (PDFs, charts) take turns: one runs, a few wait, and
 * more are refused (503, retry) rather than queued without end.
 */
export class RenderTurns {
  private running = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly maxWaiting = 4) {}

  /** Throws 503 at once (not a rejected promise) when too many renders are waiting already. */
  run<T>(f: () => Promise<T>): Promise<T> {
    if (this.running && this.waiting.length >= this.maxWaiting) {
      throw new ApiError('service_unavailable', 'busy rendering other documents; try again in a moment');
    }
    return this.inTurn(f);
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
