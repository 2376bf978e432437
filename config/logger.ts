import pino, { type Logger } from 'pino';

export function createLogger(level: string, name = 'tradeflow'): Logger {
  return pino({ name, level, base: { service: name } });
}
