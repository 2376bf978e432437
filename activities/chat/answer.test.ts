import { describe, expect, it } from 'vitest';
import type { ChatGrounding } from '../../workflows/chat/contract.js';
import { type AnswerFacts, chunksOf, systemPrompt, templatedAnswer } from './answer.js';

const analysis: NonNullable<ChatGrounding['analysis']> = {
  job_id: 'job-123',
  as_of: '2025-10-15',
  completed_at: '2025-10-15T12:00:00.000Z',
  decision: 'BUY',
  rating: 'OVERWEIGHT',
  confidence: 0.62,
  close_at_analysis: 249.34,
  target_price: 270,
  fair_value: null,
  summary: '## Summary\nMomentum is strong. Valuation is stretched. Third sentence.',
};
const prices: NonNullable<ChatGrounding['prices']> = {
  last_date: '2025-10-30',
  last_close: 271.4,
  change_pct: 3.21,
  sessions: 9,
  source: 'files',
};
const facts = (o: Partial<AnswerFacts>): AnswerFacts => ({
  message: 'What about Apple?',
  ticker: 'AAPL',
  tickerFrom: 'message',
  grounded: { analysis, prices },
  analysed: ['AAPL'],
  ...o,
});

describe('templatedAnswer', () => {
  it('cites the analysis job, its date and decision, and the last close', () => {
    const a = templatedAnswer(facts({}));
    expect(a).toContain('About AAPL.');
    expect(a).toContain('job job-123, as of 2025-10-15: decision BUY (rating OVERWEIGHT, confidence 62%)');
    expect(a).toContain('closed at $249.34');
    expect(a).toContain('target price $270.00');
    expect(a).toContain('Momentum is strong. Valuation is stretched.');
    expect(a).not.toContain('Third sentence');
    expect(a).toContain('The last close of AAPL is $271.40 on 2025-10-30 (+3.21% over the last 9 sessions)');
  });

  it('says plainly when there is no analysis of the ticker', () => {
    const a = templatedAnswer(facts({ ticker: 'TSLA', grounded: { analysis: null, prices } }));
    expect(a).toContain('There is no completed analysis of TSLA yet');
    expect(a).toContain('POST /run {"ticker": "TSLA"}');
    expect(a).toContain('The last close of TSLA is $271.40');
  });

  it('says when no ticker was recognised, and what the user has analyses of', () => {
    const a = templatedAnswer(facts({ ticker: null, tickerFrom: null, grounded: { analysis: null, prices: null } }));
    expect(a).toContain('I could not tell which stock you mean');
    expect(a).toContain('You have analyses of AAPL.');
  });

  it('says a follow-up is about the stock discussed before', () => {
    expect(templatedAnswer(facts({ tickerFrom: 'conversation' }))).toMatch(/^Still on AAPL, from earlier/);
  });

  it('says when the prices are synthetic, or missing', () => {
    const synthetic = templatedAnswer(facts({ grounded: { analysis, prices: { ...prices, source: 'synthetic-42' } } }));
    expect(synthetic).toContain('synthetic prices');
    expect(templatedAnswer(facts({ grounded: { analysis, prices: null } }))).toContain('no recent prices of AAPL');
  });
});

describe('systemPrompt', () => {
  it('holds the facts the LLM must answer from and cite', () => {
    const p = systemPrompt(facts({}));
    expect(p).toContain('job-123');
    expect(p).toContain('decision BUY');
    expect(p).toContain('$271.40');
    expect(systemPrompt(facts({ ticker: null }))).toContain('No ticker was recognised');
  });
});

describe('chunksOf', () => {
  it('splits a text into pieces that join back to it', () => {
    const text = 'one two three four five six seven eight nine ten eleven twelve thirteen';
    const pieces = chunksOf(text, 4);
    expect(pieces.length).toBe(4);
    expect(pieces.join('')).toBe(text);
  });
});
