import type { AnalystReport } from '../agents/analysts.js';
import type { TeamOutcome } from '../agents/team.js';
import type { AnalysisJobSpec, AnalysisResult, LlmUsage } from '../contract.js';
import type { MarketFacts } from '../marketFacts.js';
import type { DcfInput, DcfSummary } from '../valuation.js';

const usd = (x: number) => `$${x.toFixed(2)}`;
const pct = (x: number | null | undefined) => (x == null ? 'n/a' : `${(x * 100).toFixed(1)}%`);

/** Analyst sections start at heading level 2; in the report they sit one level lower. */
function demote(markdown: string): string {
  return markdown.replace(/^(#{1,5}) /gm, '#$1 ');
}

export function professionalReport(input: {
  spec: AnalysisJobSpec;
  facts: MarketFacts;
  dcfInput?: DcfInput;
  dcf?: DcfSummary;
  reports: readonly AnalystReport[];
  team: TeamOutcome;
  usage: LlmUsage;
  llmLabel: string;
  /** The market source of the prices (`synthetic-42`, `files`, `yahoo`). */
  marketSource?: string;
}): string {
  const { spec, facts, dcf, dcfInput, team, usage } = input;
  const d = team.decision;
  const lines: string[] = [
    `# ${spec.company} (${spec.ticker}) — Professional Analysis Report`,
    '',
    `Analysis date ${spec.asOf} · data through ${facts.lastDate} · pipeline ${spec.pipeline} · ${input.llmLabel}${input.marketSource ? ` · market data ${input.marketSource}` : ''}`,
    '',
    // Where a reader looks first: a report made from the seeded walk is never taken for the market.
    ...(input.marketSource?.startsWith('synthetic')
      ? [
          `> **SYNTHETIC PRICES** (${input.marketSource}): every price, return and valuation below comes from a seeded random walk, not from the market. Nothing here describes ${spec.ticker}'s real price.`,
          '',
        ]
      : []),
    '# Executive Summary',
    '',
    `**Rating: ${d.rating}** (${d.decision}), confidence ${Math.round(d.confidence * 100)}%. Last close ${usd(d.lastClose)}${d.targetPrice ? `, 12-month target ${usd(d.targetPrice)}` : ''}${d.fairValue ? `, DCF fair value ${usd(d.fairValue)}` : ''}.`,
    '',
    ...d.reasons.map((r) => `- ${r}`),
    '',
  ];
  if (spec.query) lines.push(`Question asked: *${spec.query}*`, '');
  lines.push('# Market and Analyst Views', '');
  for (const r of input.reports) lines.push(demote(r.markdown), '');
  if (dcf && dcfInput) {
    lines.push(
      '# DCF Valuation',
      '',
      '| Item | Value |',
      '| --- | --- |',
      `| Discount rate (CAPM) | ${pct(dcf.wacc)} |`,
      `| Beta | ${dcfInput.beta.toFixed(2)} |`,
      `| Starting FCF yield | ${pct(dcfInput.assumptions.fcfYield)} |`,
      `| Growth years 1–5 | ${dcfInput.assumptions.growth.map((g) => pct(g)).join(', ')} |`,
      `| Terminal growth | ${pct(dcfInput.assumptions.terminalGrowth)} |`,
      `| Value, perpetual growth | ${usd(dcf.perpetuityValue)} |`,
      `| Value, exit multiple (${dcfInput.assumptions.exitMultiple}x) | ${usd(dcf.exitMultipleValue)} |`,
      `| Blended value | ${usd(dcf.blendedValue)} (${pct(dcf.upside)} vs close) |`,
      '',
      `The workbook \`models/${spec.ticker}_financial_model.xlsx\` holds the live formulas and a WACC × growth sensitivity grid. Sources of each input:`,
      '',
      ...Object.entries(dcfInput.sources).map(([k, v]) => `- **${k}**: ${v}`),
      '',
    );
  }
  lines.push('# Investment Thesis', '', '## Bull and Bear Debate', '');
  for (const round of team.debate) {
    lines.push(
      `**Round ${round.round} — bull.** ${round.bull}`,
      '',
      `**Round ${round.round} — bear.** ${round.bear}`,
      '',
    );
  }
  lines.push('## Research Manager', '', team.researchVerdict, '', '## Trader', '', team.trader.text, '');
  lines.push(
    '## Risk Review',
    '',
    `- **Aggressive:** ${team.risk.aggressive}`,
    `- **Conservative:** ${team.risk.conservative}`,
    `- **Neutral:** ${team.risk.neutral}`,
    '',
    '# Recommendation',
    '',
    team.decisionMarkdown,
    '',
    '# Appendix',
    '',
    '| Item | Value |',
    '| --- | --- |',
    `| Sessions analysed | ${facts.sessions} (${facts.firstDate} .. ${facts.lastDate}) |`,
    `| LLM calls | ${usage.calls} |`,
    `| Tokens (prompt / completion) | ${usage.promptTokens} / ${usage.completionTokens} |`,
    `| LLM cost | $${usage.costUsd.toFixed(4)} |`,
    '',
    'This report was produced by an automated multi-agent pipeline from market data up to the analysis date; no data after that date was used. It is not investment advice.',
    '',
  );
  return lines.join('\n');
}

export function financialSummary(
  spec: AnalysisJobSpec,
  facts: MarketFacts,
  reports: readonly AnalystReport[],
  dcf?: DcfSummary,
): string {
  const lines = [
    `# ${spec.ticker} financial summary (${spec.asOf})`,
    '',
    `- Last close ${usd(facts.lastClose)} on ${facts.lastDate}; 52-week range ${usd(facts.low52w)} – ${usd(facts.high52w)}`,
    `- Returns: 1 month ${pct(facts.returns.m1)}, 3 months ${pct(facts.returns.m3)}, 1 year ${pct(facts.returns.y1)}`,
    `- Volatility ${pct(facts.volatility)}, max drawdown ${pct(facts.maxDrawdown1y)}, beta ${facts.beta?.toFixed(2) ?? 'n/a'}`,
  ];
  if (dcf)
    lines.push(`- DCF blended value ${usd(dcf.blendedValue)} (${pct(dcf.upside)} vs close), WACC ${pct(dcf.wacc)}`);
  lines.push('');
  for (const r of reports.filter((x) => x.analyst === 'fundamentals' || x.analyst === 'market')) {
    lines.push(demote(r.markdown), '');
  }
  return lines.join('\n');
}

export function newsSummary(spec: AnalysisJobSpec, facts: MarketFacts, reports: readonly AnalystReport[]): string {
  const lines = [
    `# ${spec.ticker} news summary (${spec.asOf})`,
    '',
    '| Date | Event | Move | Volume vs 20-day |',
    '| --- | --- | --- | --- |',
    ...facts.events.map((e) => `| ${e.date} | ${e.kind} | ${pct(e.change)} | ${e.volumeRatio.toFixed(1)}x |`),
    '',
  ];
  for (const r of reports.filter((x) => x.analyst === 'news' || x.analyst === 'sentiment')) {
    lines.push(demote(r.markdown), '');
  }
  return lines.join('\n');
}

export function priceAdjustment(
  spec: AnalysisJobSpec,
  facts: MarketFacts,
  from: 'model' | 'news',
  result: AnalysisResult,
  detail: string,
): string {
  return [
    `# ${spec.ticker} price adjustment (${from === 'model' ? 'from the DCF model' : 'from the news flow'})`,
    '',
    `Last close ${usd(facts.lastClose)} → adjusted price ${usd(result.targetPrice ?? facts.lastClose)} (${pct((result.targetPrice ?? facts.lastClose) / facts.lastClose - 1)}), view ${result.rating}.`,
    '',
    detail,
    '',
  ].join('\n');
}
