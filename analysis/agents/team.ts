import type { AnalysisResult, Analyst, Rating } from '../contract.js';
import type { MarketFacts } from '../marketFacts.js';
import type { AnalystReport, Point } from './analysts.js';
import type { AgentVoice } from './voice.js';

/** How much each analyst's score counts in the research manager's verdict (renormalised over those run). */
const ANALYST_WEIGHTS: Record<Analyst, number> = { market: 0.35, fundamentals: 0.3, news: 0.2, sentiment: 0.15 };

export interface DebateRound {
  round: number;
  bull: string;
  bear: string;
}

export interface TeamOutcome {
  debate: DebateRound[];
  researchVerdict: string;
  netScore: number;
  trader: { action: 'BUY' | 'SELL' | 'HOLD'; sizePct: number; stopLoss: number; text: string };
  risk: { aggressive: string; conservative: string; neutral: string; adjustment: number };
  decision: AnalysisResult;
  decisionMarkdown: string;
}

export type Say = (role: string, text: string) => void;

const usd = (x: number) => `$${x.toFixed(2)}`;
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function netScore(reports: readonly AnalystReport[]): number {
  const total = reports.reduce((a, r) => a + ANALYST_WEIGHTS[r.analyst], 0);
  if (total === 0) return 0;
  return reports.reduce((a, r) => a + r.score * ANALYST_WEIGHTS[r.analyst], 0) / total;
}

export function ratingFor(score: number): Rating {
  if (score > 0.35) return 'BUY';
  if (score > 0.12) return 'OVERWEIGHT';
  if (score >= -0.12) return 'HOLD';
  if (score >= -0.35) return 'UNDERWEIGHT';
  return 'SELL';
}

export function decisionFor(rating: Rating): 'BUY' | 'SELL' | 'HOLD' {
  return rating === 'BUY' || rating === 'OVERWEIGHT'
    ? 'BUY'
    : rating === 'SELL' || rating === 'UNDERWEIGHT'
      ? 'SELL'
      : 'HOLD';
}

/** Parses a rating a model wrote (`RATING: OVERWEIGHT`); null when it wrote none. */
export function parseRating(text: string): Rating | null {
  const m = /RATING:\s*\**\s*(BUY|OVERWEIGHT|HOLD|UNDERWEIGHT|SELL)\b/i.exec(text);
  return m ? (m[1]!.toUpperCase() as Rating) : null;
}

function strongest(points: readonly Point[], sign: 1 | -1, n: number): Point[] {
  return points
    .filter((p) => Math.sign(p.weight) === sign)
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
    .slice(0, n);
}

export async function runDebateAndDecision(
  facts: MarketFacts,
  reports: readonly AnalystReport[],
  opts: { debateRounds: number; riskRounds: number; fairValue?: number },
  voice: AgentVoice,
  say: Say,
): Promise<TeamOutcome> {
  const all = reports.flatMap((r) => r.points);
  const bulls = strongest(all, 1, 6);
  const bears = strongest(all, -1, 6);
  const facts$ = all.map((p) => `- ${p.text}`).join('\n');

  const debate: DebateRound[] = [];
  for (let round = 1; round <= opts.debateRounds; round++) {
    const bullPoint = bulls[(round - 1) % Math.max(bulls.length, 1)];
    const bearPoint = bears[(round - 1) % Math.max(bears.length, 1)];
    const bull = await voice.speak({
      role: 'Bull researcher',
      instructions: 'Argue for buying in three sentences, answering the bear.',
      facts: facts$,
      draft: bullPoint
        ? `Round ${round}: ${bullPoint.text}.${bearPoint ? ` The bear's "${bearPoint.text}" is ${Math.abs(bearPoint.weight) < Math.abs(bullPoint.weight) ? 'outweighed by it' : 'a risk to size for, not a reason to stay out'}.` : ''}`
        : `Round ${round}: the bull finds no positive evidence in the data and concedes.`,
    });
    say('Bull researcher', bull);
    const bear = await voice.speak({
      role: 'Bear researcher',
      instructions: 'Argue against buying in three sentences, answering the bull.',
      facts: facts$,
      draft: bearPoint
        ? `Round ${round}: ${bearPoint.text}.${bullPoint ? ` "${bullPoint.text}" ${Math.abs(bullPoint.weight) > Math.abs(bearPoint.weight) ? 'is real, but priced in' : 'does not offset it'}.` : ''}`
        : `Round ${round}: the bear finds no negative evidence in the data and concedes.`,
    });
    say('Bear researcher', bear);
    debate.push({ round, bull, bear });
  }

  const net = netScore(reports);
  const researchVerdict = await voice.speak({
    role: 'Research manager',
    instructions: 'Weigh the debate and state which side wins and why, in one paragraph.',
    facts: facts$,
    draft: `Weighted analyst score ${net.toFixed(2)} (${reports.map((r) => `${r.analyst} ${r.score.toFixed(2)}`).join(', ')}). The ${net > 0.05 ? 'bull' : net < -0.05 ? 'bear' : 'neither'} side ${Math.abs(net) > 0.05 ? 'has the stronger evidence' : 'carries the debate: evidence is balanced'}.`,
  });
  say('Research manager', researchVerdict);

  const vol = facts.volatility ?? 0.3;
  const action: 'BUY' | 'SELL' | 'HOLD' = net > 0.12 ? 'BUY' : net < -0.12 ? 'SELL' : 'HOLD';
  // Size so that a one-sigma monthly move costs about 1% of the portfolio, capped at 10%.
  const sizePct = action === 'HOLD' ? 0 : Math.min(10, Math.round((1 / (vol / Math.sqrt(12))) * 10) / 10);
  const stopLoss = facts.lastClose * (1 - Math.min(0.25, 2 * (vol / Math.sqrt(12))));
  const traderText = await voice.speak({
    role: 'Trader',
    instructions: 'Turn the research verdict into a concrete proposal: action, size, entry and stop.',
    facts: `${facts$}\nResearch verdict: ${researchVerdict}`,
    draft: `Proposal: ${action}${action === 'HOLD' ? '' : ` ${sizePct}% of the portfolio`} at about ${usd(facts.lastClose)}, stop-loss ${usd(stopLoss)} (two monthly sigmas at ${pct(vol)} annual volatility).`,
  });
  say('Trader', traderText);

  const riskFlags: string[] = [];
  if (vol > 0.45) riskFlags.push(`volatility ${pct(vol)} is high`);
  if (facts.maxDrawdown1y > 0.3)
    riskFlags.push(`the stock fell ${pct(facts.maxDrawdown1y)} peak-to-trough within a year`);
  if (facts.rsi14 !== null && facts.rsi14 > 75) riskFlags.push(`RSI ${facts.rsi14.toFixed(0)} is stretched`);
  const adjustment = Math.max(0.4, 1 - 0.2 * riskFlags.length);
  const risk = { aggressive: '', conservative: '', neutral: '', adjustment };
  for (let round = 1; round <= opts.riskRounds; round++) {
    risk.aggressive = await voice.speak({
      role: 'Aggressive risk analyst',
      instructions: 'Argue for taking the full proposed risk, in two sentences.',
      facts: traderText,
      draft: `Take the trade at full size: the edge (${net.toFixed(2)}) is what we are paid for${riskFlags.length ? `; ${riskFlags[0]} is the price of the opportunity` : ''}.`,
    });
    say('Aggressive risk analyst', risk.aggressive);
    risk.conservative = await voice.speak({
      role: 'Conservative risk analyst',
      instructions: 'Argue for protecting capital, in two sentences.',
      facts: traderText,
      draft: riskFlags.length
        ? `Cut size: ${riskFlags.join('; ')}. Scale conviction by ${adjustment.toFixed(1)}.`
        : 'No red flags in volatility, drawdown or momentum extremes; the proposed stop is adequate.',
    });
    say('Conservative risk analyst', risk.conservative);
    risk.neutral = await voice.speak({
      role: 'Neutral risk analyst',
      instructions: 'Balance the two views, in two sentences.',
      facts: traderText,
      draft: `Keep the direction, apply the ${adjustment.toFixed(1)}x conviction scaling${riskFlags.length ? ' for the flagged risks' : ''}, and respect the stop.`,
    });
    say('Neutral risk analyst', risk.neutral);
  }

  const adjusted = net * adjustment;
  const baseRating = ratingFor(adjusted);
  const reasons = [
    ...strongest(all, adjusted >= 0 ? 1 : -1, 3).map((p) => p.text),
    ...(riskFlags.length ? [`Risk review: ${riskFlags.join('; ')}`] : []),
  ];
  const target = opts.fairValue
    ? (facts.lastClose * (1 + Math.max(-0.3, Math.min(0.3, adjusted * 0.25))) + opts.fairValue) / 2
    : facts.lastClose * (1 + Math.max(-0.3, Math.min(0.3, adjusted * 0.25)));
  const pmText = await voice.speak({
    role: 'Portfolio manager',
    instructions:
      'Give the final decision. Start with a line "RATING: <BUY|OVERWEIGHT|HOLD|UNDERWEIGHT|SELL>", then the reasons.',
    facts: `${facts$}\nTrader: ${traderText}\nRisk: ${risk.neutral}`,
    draft: [
      `RATING: ${baseRating}`,
      '',
      `Adjusted conviction ${adjusted.toFixed(2)} (analysts ${net.toFixed(2)} × risk ${adjustment.toFixed(1)}); 12-month target ${usd(target)} vs ${usd(facts.lastClose)}.`,
      '',
      ...reasons.map((r) => `- ${r}`),
    ].join('\n'),
  });
  say('Portfolio manager', pmText);
  const rating = parseRating(pmText) ?? baseRating;
  const decision: AnalysisResult = {
    decision: decisionFor(rating),
    rating,
    confidence: Math.round(Math.min(0.95, 0.5 + Math.abs(adjusted)) * 100) / 100,
    reasons,
    lastClose: facts.lastClose,
    targetPrice: Math.round(target * 100) / 100,
    ...(opts.fairValue ? { fairValue: Math.round(opts.fairValue * 100) / 100 } : {}),
    reports: Object.fromEntries(reports.map((r) => [r.analyst, r.markdown])),
    summary: `${facts.ticker} ${rating} (${decisionFor(rating)}), confidence ${Math.round(Math.min(0.95, 0.5 + Math.abs(adjusted)) * 100)}%, target ${usd(target)}`,
  };
  return {
    debate,
    researchVerdict,
    netScore: net,
    trader: { action, sizePct, stopLoss, text: traderText },
    risk,
    decision,
    decisionMarkdown: pmText,
  };
}
