import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import { ApiError } from '../http/errors.js';
import type { CodeMailer } from './signIn.js';

/** Codes by SMTP (`TRADEFLOW_SMTP_URL`, e.g. `smtps://user:pass@smtp.example.com`). */
export function smtpMailer(url: string, from: string): CodeMailer {
  const transport = nodemailer.createTransport(url);
  return {
    send: async (to, code, expiresAt) => {
      await transport.sendMail({
        from,
        to,
        subject: `Your tradeflow sign-in code: ${code}`,
        text: `Your tradeflow sign-in code is ${code}.\n\nIt works once, until ${expiresAt.toISOString()}. If you did not ask for it, ignore this message.\n`,
      });
    },
  };
}

/**
 * No SMTP server configured: on a loopback address (development) the code goes to the log, which only
 * this machine's user reads; anywhere else email sign-in is off.
 */
export function logMailer(logger: Logger, loopback: boolean): CodeMailer {
  return {
    send: async (to, code) => {
      if (!loopback) {
        throw new ApiError('service_unavailable', 'email sign-in is not configured (TRADEFLOW_SMTP_URL)');
      }
      logger.warn({ to, code }, 'no SMTP server configured (TRADEFLOW_SMTP_URL): the sign-in code is here');
    },
  };
}
