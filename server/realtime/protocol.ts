import { SYMBOL_PATTERN } from '../../trading/realtime/feed.js';

/** What a client may send on either hub (the seed's vocabulary, as JSON). */
export type ClientMessage =
  | { type: 'subscribe' | 'unsubscribe'; symbols: string[] }
  | { type: 'ping'; id?: string | number }
  | { type: 'health' };

/** Why a client's message was refused: sent back as `{type: 'error', code, message}`. */
export type ProtocolErrorCode =
  | 'invalid_json'
  | 'invalid_message'
  | 'unknown_type'
  | 'invalid_symbol'
  | 'too_many_symbols'
  | 'unknown_symbol'
  | 'not_configured';

export interface ProtocolError {
  code: ProtocolErrorCode;
  message: string;
  symbols?: string[];
}

/** Symbols one message may name. */
export const MAX_SYMBOLS_PER_MESSAGE = 100;

/** Reads one client message; symbols come back upper-cased and de-duplicated. */
export function parseClientMessage(
  raw: string,
): { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, error: { code: 'invalid_json', message: 'a message is one JSON object' } };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: { code: 'invalid_message', message: 'a message is one JSON object with a "type"' } };
  }
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ping': {
      const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : undefined;
      return { ok: true, message: id === undefined ? { type: 'ping' } : { type: 'ping', id } };
    }
    case 'health':
      return { ok: true, message: { type: 'health' } };
    case 'subscribe':
    case 'unsubscribe': {
      // The seed's news channel called them tickers.
      const list = m.symbols ?? m.tickers;
      if (!Array.isArray(list) || list.length === 0) {
        return {
          ok: false,
          error: { code: 'invalid_message', message: `"${m.type}" needs "symbols": a non-empty array of tickers` },
        };
      }
      if (list.length > MAX_SYMBOLS_PER_MESSAGE) {
        return {
          ok: false,
          error: { code: 'too_many_symbols', message: `at most ${MAX_SYMBOLS_PER_MESSAGE} symbols a message` },
        };
      }
      const bad = list.filter((s) => typeof s !== 'string' || !SYMBOL_PATTERN.test(s.toUpperCase()));
      if (bad.length) {
        return {
          ok: false,
          error: {
            code: 'invalid_symbol',
            message: 'a symbol is 1–15 letters, digits or . - = ^ (Yahoo spells share classes BRK-B)',
            symbols: bad.slice(0, 10).map((s) => String(s).slice(0, 20)),
          },
        };
      }
      const symbols = [...new Set((list as string[]).map((s) => s.toUpperCase()))];
      return { ok: true, message: { type: m.type, symbols } };
    }
    default:
      return {
        ok: false,
        error: {
          code: 'unknown_type',
          message: `"type" is one of subscribe, unsubscribe, ping, health (got ${JSON.stringify(m.type)?.slice(0, 40)})`,
        },
      };
  }
}
