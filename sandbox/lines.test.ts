import { describe, expect, it } from 'vitest';
import { LineSplitter } from './lines.js';

describe('LineSplitter', () => {
  it('splits on \\n across chunk borders, also inside a UTF-8 character, and flushes the last partial line', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('first\nsecond – ü€\n\nlast');
    for (let i = 0; i < bytes.length; i += 3) splitter.push(bytes.subarray(i, i + 3));
    expect(lines).toEqual(['first', 'second – ü€', '']);
    splitter.flush();
    expect(lines).toEqual(['first', 'second – ü€', '', 'last']);
  });

  it('cuts a line that never ends at the maximum length', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l), 4);
    splitter.push('abcdefghij\nxy');
    splitter.flush();
    expect(lines).toEqual(['abcdefghij', 'xy']);
    splitter.push('abcdefghij');
    expect(lines.slice(2)).toEqual(['abcd', 'efgh']);
  });
});
