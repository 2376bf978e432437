import type { Analyst } from '../contract.js';
import type { MarketFacts } from '../marketFacts.js';
import type { DcfSummary } from '../valuation.js';
import type { AgentVoice } from './voice.js';

/** A point an analyst makes: its weight says how strongly it argues for (+) or against (-) the stock. */
export interface Point {
  text: string;
  weight: number;
}

export interface AnalystReport {
  analyst: Analyst;
  /** -1 (strongly bearish) .. +1 (strongly bullish). */
  score: number;
  points: Point[];
  markdown: string;
}

const pct = (x: number | null | undefined, digits = 1) => (x == null ? 'n/a' : `${(x * 100).toFixed(digits)}%`);
const usd = (x: number | null | undefined) => (x == null ? 'n/a' : `$${x.toFixed(2)}`);
const clamp = (x: number, lo = -1, hi = 1) => Math.min(hi, Math.max(lo, x));

function scoreOf(points: readonly Point[]): number {
  return clamp(points.reduce((a, p) => a + p.weight, 0));
}

function draft(title: string, intro: string, points: readonly Point[], table?: string): string {
  const bullets = points.map((p) => `- ${p.text} (${p.weight >= 0 ? '+' : ''}${p.weight.toFixed(2)})`);
  return [`## ${title}`, '', intro, '', ...(table ? [table, ''] : []), ...bullets].join('\n');
}

export function marketPoints(f: MarketFacts): Point[] {
  const points: Point[] = [];
  if (f.sma50 !== null) {
    const above = f.lastClose > f.sma50;
    points.push({
      text: `Close ${usd(f.lastClose)} is ${above ? 'above' : 'below'} its 50-day average ${usd(f.sma50)}`,
      weight: above ? 0.2 : -0.2,
    });
  }
  if (f.sma50 !== null && f.sma200 !== null) {
    const golden = f.sma50 > f.sma200;
    points.push({
      text: `50-day average is ${golden ? 'above' : 'below'} the 200-day ${usd(f.sma200)} (${golden ? 'uptrend' : 'downtrend'})`,
      weight: golden ? 0.15 : -0.15,
    });
  }
  if (f.returns.m3 !== null) {
    points.push({ text: `3-month return ${pct(f.returns.m3)}`, weight: clamp(f.returns.m3 * 1.5, -0.3, 0.3) });
  }
  if (f.rsi14 !== null && (f.rsi14 > 70 || f.rsi14 < 30)) {
    const hot = f.rsi14 > 70;
    points.push({
      text: `RSI(14) at ${f.rsi14.toFixed(1)}: ${hot ? 'overbought, pullback risk' : 'oversold, rebound potential'}`,
      weight: hot ? -0.15 : 0.15,
    });
  }
  if (f.macd) {
    const up = f.macd.histogram > 0;
    points.push({
      text: `MACD ${f.macd.macd.toFixed(2)} ${up ? 'above' : 'below'} its signal ${f.macd.signal.toFixed(2)}`,
      weight: up ? 0.1 : -0.1,
    });
  }
  return points;
}

function marketTable(f: MarketFacts): string {
  return [
    '| Measure | Value |',
    '| --- | --- |',
    `| Last close (${f.lastDate}) | ${usd(f.lastClose)} |`,
    `| 5-day / 1-month / 3-month / 1-year return | ${pct(f.returns.d5)} / ${pct(f.returns.m1)} / ${pct(f.returns.m3)} / ${pct(f.returns.y1)} |`,
    `| 20 / 50 / 200-day average | ${usd(f.sma20)} / ${usd(f.sma50)} / ${usd(f.sma200)} |`,
    `| RSI(14) | ${f.rsi14?.toFixed(1) ?? 'n/a'} |`,
    `| Annualised volatility (6 months) | ${pct(f.volatility)} |`,
    `| Max drawdown (1 year) | ${pct(f.maxDrawdown1y)} |`,
    `| 52-week range | ${usd(f.low52w)} – ${usd(f.high52w)} |`,
    `| Beta vs ${f.benchmark?.symbol ?? 'benchmark'} | ${f.beta?.toFixed(2) ?? 'n/a'} |`,
  ].join('\n');
}

export function newsPoints(f: MarketFacts): Point[] {
  if (f.events.length === 0) return [{ text: 'No outsized price or volume events in the last 90 sessions', weight: 0 }];
  return f.events.map((e, i) => {
    const recency = (i + 1) / f.events.length;
    const label = e.kind === 'volume-spike' ? 'volume spike' : e.kind;
    return {
      text: `${e.date}: ${label}, ${pct(e.change)} on ${e.volumeRatio.toFixed(1)}x average volume`,
      weight: clamp(Math.sign(e.change) * Math.min(Math.abs(e.change) * 3, 0.15) * recency, -0.15, 0.15),
    };
  });
}

export function fundamentalsPoints(f: MarketFacts, dcf: DcfSummary): Point[] {
  return [
    {
      text: `Blended DCF value ${usd(dcf.blendedValue)} per share vs last close ${usd(f.lastClose)}: ${pct(dcf.upside)} ${dcf.upside >= 0 ? 'upside' : 'downside'}`,
      weight: clamp(dcf.upside * 1.5, -0.6, 0.6),
    },
    {
      text: `Discount rate (CAPM) ${pct(dcf.wacc)} with beta ${f.beta?.toFixed(2) ?? '1.00 (assumed)'}`,
      weight: dcf.wacc > 0.11 ? -0.1 : 0.05,
    },
  ];
}

export function sentimentPoints(f: MarketFacts): Point[] {
  const points: Point[] = [];
  if (f.returns.d5 !== null) {
    points.push({ text: `Last 5 sessions ${pct(f.returns.d5)}`, weight: clamp(f.returns.d5 * 3, -0.2, 0.2) });
  }
  if (f.volumeTrend !== null) {
    const rising = f.volumeTrend > 0;
    const direction = Math.sign(f.returns.m1 ?? 0);
    points.push({
      text: `20-day volume ${pct(f.volumeTrend)} vs the 60-day average: ${rising ? 'growing' : 'fading'} participation${direction > 0 ? ' in a rising tape' : direction < 0 ? ' in a falling tape' : ''}`,
      weight: clamp(f.volumeTrend * direction * 0.5, -0.15, 0.15),
    });
  }
  if (f.benchmark?.m3 != null && f.returns.m3 !== null) {
    const rel = f.returns.m3 - f.benchmark.m3;
    points.push({
      text: `3-month return ${rel >= 0 ? 'beats' : 'trails'} ${f.benchmark.symbol} by ${pct(Math.abs(rel))}`,
      weight: clamp(rel, -0.2, 0.2),
    });
  }
  return points;
}

const TITLES: Record<Analyst, string> = {
  market: 'Market analyst',
  news: 'News analyst',
  fundamentals: 'Fundamentals analyst',
  sentiment: 'Sentiment analyst',
};

const INTROS: Record<Analyst, (f: MarketFacts) => string> = {
  market: (f) => `Technical picture of ${f.ticker} from ${f.sessions} sessions up to ${f.lastDate}.`,
  news: (f) =>
    `No news feed is configured for this run, so the sessions whose moves or volume would have made headlines stand in for the news flow (${f.events.length} in the last 90 sessions).`,
  fundamentals: (f) =>
    `No financial statements are available offline: value is read from the per-share DCF model (assumptions in the workbook) against the ${usd(f.lastClose)} close.`,
  sentiment: () => 'Crowd positioning read from short-term price action, participation and relative strength.',
};

export async function runAnalyst(
  analyst: Analyst,
  facts: MarketFacts,
  dcf: DcfSummary,
  voice: AgentVoice,
): Promise<AnalystReport> {
  const points =
    analyst === 'market'
      ? marketPoints(facts)
      : analyst === 'news'
        ? newsPoints(facts)
        : analyst === 'fundamentals'
          ? fundamentalsPoints(facts, dcf)
          : sentimentPoints(facts);
  const score = scoreOf(points);
  const table = analyst === 'market' ? marketTable(facts) : undefined;
  const text = await voice.speak({
    role: TITLES[analyst],
    instructions: 'Write a concise markdown section (heading level 2) with your view and the evidence for it.',
    facts: points.map((p) => `- ${p.text}`).join('\n') + (table ? `\n${table}` : ''),
    draft: `${draft(TITLES[analyst], INTROS[analyst](facts), points, table)}\n\nScore: ${score.toFixed(2)} (-1 bearish .. +1 bullish).`,
  });
  return { analyst, score, points, markdown: text };
}
