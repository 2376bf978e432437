import { describe, expect, it } from 'vitest';
import { MAX_SYMBOLS_PER_MESSAGE, parseClientMessage } from './protocol.js';

describe('parseClientMessage', () => {
  it('reads the four message types; symbols upper-cased and de-duplicated; tickers as an alias', () => {
    expect(parseClientMessage('{"type":"subscribe","symbols":["aapl","AAPL","brk-b"]}')).toEqual({
      ok: true,
      message: { type: 'subscribe', symbols: ['AAPL', 'BRK-B'] },
    });
    expect(parseClientMessage('{"type":"unsubscribe","tickers":["msft"]}')).toEqual({
      ok: true,
      message: { type: 'unsubscribe', symbols: ['MSFT'] },
    });
    expect(parseClientMessage('{"type":"ping","id":3}')).toEqual({ ok: true, message: { type: 'ping', id: 3 } });
    expect(parseClientMessage('{"type":"health"}')).toEqual({ ok: true, message: { type: 'health' } });
  });

  it.each([
    ['not json', 'invalid_json'],
    ['[1]', 'invalid_message'],
    ['null', 'invalid_message'],
    ['{"type":"subscribe"}', 'invalid_message'],
    ['{"type":"subscribe","symbols":[]}', 'invalid_message'],
    ['{"type":"subscribe","symbols":"AAPL"}', 'invalid_message'],
    ['{"type":"subscribe","symbols":[42]}', 'invalid_symbol'],
    ['{"type":"subscribe","symbols":["__proto__"]}', 'invalid_symbol'],
    ['{"type":"subscribe","symbols":["a b"]}', 'invalid_symbol'],
    ['{"type":"subscribe","symbols":["TOOLONGSYMBOL1234"]}', 'invalid_symbol'],
    ['{"type":"constructor"}', 'unknown_type'],
    ['{"symbols":["AAPL"]}', 'unknown_type'],
  ])('%s is refused with %s', (raw, code) => {
    const r = parseClientMessage(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it(`refuses more than ${MAX_SYMBOLS_PER_MESSAGE} symbols in one message`, () => {
    const symbols = Array.from({ length: MAX_SYMBOLS_PER_MESSAGE + 1 }, (_, i) => `S${i}`);
    const r = parseClientMessage(JSON.stringify({ type: 'subscribe', symbols }));
    expect(r.ok ? undefined : r.error.code).toBe('too_many_symbols');
  });
});
