import type { ChatGrounding, ChatMessage } from '../../workflows/chat/contract.js';

// What an answer says, from the facts it rests on: the deterministic model's templated answer, and the
// facts an LLM is given to write its own. Pure, so it is unit-tested.

export interface AnswerFacts {
  message: string;
  ticker: string | null;
  /** Where the ticker came from: this message, or the conversation before it (a follow-up). */
  tickerFrom: 'message' | 'conversation' | null;
  grounded: ChatGrounding;
  /** Tickers the user has analyses of, offered when no ticker was recognised. */
  analysed: readonly string[];
}

const money = (x: number) => `$${x.toFixed(2)}`;
const signed = (x: number) => `${x > 0 ? '+' : ''}${x.toFixed(2)}%`;

/** The analysis and prices as plain sentences: the templated answer and the LLM's system prompt share them. */
export function factLines(f: AnswerFacts): string[] {
  const lines: string[] = [];
  const a = f.grounded.analysis;
  const p = f.grounded.prices;
  if (f.ticker && a) {
    const detail = [
      a.rating && a.rating !== a.decision ? `rating ${a.rating}` : null,
      a.confidence !== null ? `confidence ${Math.round(a.confidence * 100)}%` : null,
    ].filter((x) => x !== null);
    const decision = a.decision
      ? `decision ${a.decision}${detail.length ? ` (${detail.join(', ')})` : ''}`
      : 'no decision (its pipeline makes none)';
    lines.push(`The latest analysis of ${f.ticker} is job ${a.job_id}, as of ${a.as_of}: ${decision}.`);
    if (a.close_at_analysis !== null)
      lines.push(`At the analysis, ${f.ticker} closed at ${money(a.close_at_analysis)}.`);
    const values = [
      a.target_price !== null ? `target price ${money(a.target_price)}` : null,
      a.fair_value !== null ? `fair value ${money(a.fair_value)}` : null,
    ].filter((x) => x !== null);
    if (values.length) lines.push(`The analysis puts the ${values.join(' and the ')}.`);
    if (a.summary) lines.push(`Its summary: ${firstSentences(a.summary, 2)}`);
  } else if (f.ticker) {
    lines.push(`There is no completed analysis of ${f.ticker} yet, so there is no tradeflow view on it to report.`);
  }
  if (f.ticker && p) {
    const move = p.change_pct !== null ? ` (${signed(p.change_pct)} over the last ${p.sessions} sessions)` : '';
    const synthetic = p.source?.startsWith('synthetic')
      ? ' These are synthetic prices (a seeded random walk), not the market.'
      : '';
    lines.push(`The last close of ${f.ticker} is ${money(p.last_close)} on ${p.last_date}${move}.${synthetic}`);
  } else if (f.ticker) {
    lines.push(`There are no recent prices of ${f.ticker} in the market data.`);
  }
  return lines;
}

/** The deterministic model's answer: the facts, introduced, with what to do when there are none. */
export function templatedAnswer(f: AnswerFacts): string {
  if (!f.ticker) {
    const offer = f.analysed.length
      ? ` You have analyses of ${[...new Set(f.analysed)].slice(0, 10).join(', ')}.`
      : ' You have no completed analyses yet.';
    return `I could not tell which stock you mean. Name a ticker (such as AAPL or $NVDA) or a company (such as Apple).${offer}`;
  }
  const intro =
    f.tickerFrom === 'conversation' ? `Still on ${f.ticker}, from earlier in this conversation.` : `About ${f.ticker}.`;
  const outro = f.grounded.analysis
    ? `This is what tradeflow's analysis ${f.grounded.analysis.job_id} says, not investment advice.`
    : `Start one with POST /run {"ticker": "${f.ticker}"} and ask again once it has completed.`;
  return [intro, ...factLines(f), outro].join(' ');
}

/** The LLM's instructions: answer from these facts only, cite the job, say when something is missing. */
export function systemPrompt(f: AnswerFacts): string {
  return [
    "You are tradeflow's assistant. Answer questions about stocks using only the facts below, which come from",
    "the user's own tradeflow analyses and market data. Cite the analysis job id, its date and its decision when",
    'you use it, and the last close. When a fact is missing, say so plainly; never invent prices or opinions.',
    'Be brief: a few sentences. This is not investment advice.',
    '',
    'Facts:',
    ...(f.ticker ? factLines(f) : ['No ticker was recognised in the question.']),
  ].join('\n');
}

/** The conversation as chat messages for the LLM, oldest first. */
export function historyMessages(
  history: readonly ChatMessage[],
): Array<{ role: 'user' | 'assistant'; content: string }> {
  return history.map((m) => ({ role: m.role, content: m.content }));
}

/** The first `n` sentences of a text, on one line. */
function firstSentences(text: string, n: number): string {
  const flat = text
    .replace(/[#*_`>]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const parts = flat.match(/[^.!?]+[.!?]+/g) ?? [flat];
  return parts.slice(0, n).join('').trim();
}

/**
 * A text in the pieces a stream shows as it is written: words with the space before them, a few at a
 * time. The templated answer is produced at once; publishing it this way lets every client stream alike.
 */
export function chunksOf(text: string, wordsPerChunk = 6): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  const out: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerChunk) out.push(words.slice(i, i + wordsPerChunk).join(''));
  return out;
}
