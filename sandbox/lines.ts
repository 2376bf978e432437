import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines on `\n`. Chunks may cut a line or a UTF-8 character anywhere; the
 * partial trailing line comes out on `flush()` (at exit). A line without a newline is cut at
 * `maxLineChars` so a runaway writer cannot grow the worker's memory without bound.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxLineChars = 1 << 20,
  ) {}

  push(chunk: Buffer | string): void {
    let text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.emit(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    while (text.length >= this.maxLineChars) {
      this.emit(text.slice(0, this.maxLineChars));
      text = text.slice(this.maxLineChars);
    }
    this.partial = text;
  }

  flush(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest.length > 0) this.emit(rest);
  }
}
