import { setTimeout as sleep } from 'node:timers/promises';
import { toUnits } from '../money.js';
import type { AgentContext, AgentRun, ReasoningStep, TradingAgent } from './types.js';
import { NO_TOKENS } from './types.js';

export const STRATEGY_NAMES = ['buy-and-hold', 'momentum', 'mean-reversion'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export interface StrategyParams {
  /** Days of history a signal looks at. */
  lookback?: number;
  /** Momentum: how many of the strongest symbols to hold. */
  top?: number;
  /** Mean reversion: z-score below which a symbol is bought. */
  entryZ?: number;
  /** Simulated decision latency, standing in for an LLM call in benchmarks. */
  decisionDelayMs?: number;
}

/** Orders that move the portfolio to `targets` (symbol -> shares): sells first so they fund the buys. */
function rebalance(ctx: AgentContext, targets: Map<string, number>, steps: ReasoningStep[]): void {
  const held = ctx.desk.portfolio.snapshot().holdings;
  for (const [symbol, shares] of Object.entries(held)) {
    const want = targets.get(symbol) ?? 0;
    if (shares > want)
      steps.push(
        toolStep(steps, 'sell', { symbol, quantity: shares - want }, ctx.desk.sell(symbol, shares - want).message),
      );
  }
  for (const [symbol, want] of targets) {
    // With trading costs the last targets may not be affordable in full: as many shares as cash covers.
    const quantity = Math.min(want - ctx.desk.portfolio.shares(symbol), ctx.desk.maxBuyable(symbol));
    if (quantity > 0) steps.push(toolStep(steps, 'buy', { symbol, quantity }, ctx.desk.buy(symbol, quantity).message));
  }
}

function toolStep(steps: ReasoningStep[], tool: string, args: unknown, result: string): ReasoningStep {
  return { step: steps.length + 1, role: 'tool', tool, arguments: args, content: result };
}

/** Equal-weight share targets for `symbols` out of the portfolio's value at today's open. */
function equalWeightTargets(ctx: AgentContext, symbols: readonly string[], slots: number): Map<string, number> {
  const value = ctx.desk.portfolio.value((s) => {
    const p = ctx.view.openToday(s) ?? ctx.view.lastClose(s);
    return p === undefined ? undefined : toUnits(p);
  });
  const budget = Math.floor(value / Math.max(slots, 1));
  const targets = new Map<string, number>();
  for (const s of symbols) {
    const open = ctx.view.openToday(s);
    if (open !== undefined) targets.set(s, Math.floor(budget / toUnits(open)));
  }
  return targets;
}

function closes(ctx: AgentContext, symbol: string, lookback: number): number[] {
  return ctx.view.history(symbol, lookback + 1).map((b) => b.close);
}

function decideBuyAndHold(ctx: AgentContext, steps: ReasoningStep[]): string {
  if (Object.keys(ctx.desk.portfolio.snapshot().holdings).length > 0) return 'holding';
  const tradable = ctx.symbols.filter((s) => ctx.view.openToday(s) !== undefined);
  rebalance(ctx, equalWeightTargets(ctx, tradable, tradable.length), steps);
  return `bought an equal-weight basket of ${tradable.length} symbols`;
}

function decideMomentum(ctx: AgentContext, steps: ReasoningStep[], p: StrategyParams): string {
  const lookback = p.lookback ?? 20;
  const top = p.top ?? 3;
  const ranked = ctx.symbols
    .map((s) => {
      const c = closes(ctx, s, lookback);
      return { s, r: c.length > lookback && ctx.view.openToday(s) !== undefined ? c.at(-1)! / c[0]! - 1 : undefined };
    })
    .filter((x): x is { s: string; r: number } => x.r !== undefined)
    .sort((a, b) => b.r - a.r || (a.s < b.s ? -1 : 1));
  if (ranked.length === 0) return `waiting for ${lookback} days of history`;
  const winners = ranked.slice(0, top).filter((x) => x.r > 0);
  rebalance(
    ctx,
    equalWeightTargets(
      ctx,
      winners.map((w) => w.s),
      top,
    ),
    steps,
  );
  return winners.length
    ? `holding the ${winners.length} strongest over ${lookback} days: ${winners.map((w) => w.s).join(', ')}`
    : 'no symbol has positive momentum: in cash';
}

function decideMeanReversion(ctx: AgentContext, steps: ReasoningStep[], p: StrategyParams): string {
  const lookback = p.lookback ?? 20;
  const entryZ = p.entryZ ?? -1;
  const keep: string[] = [];
  for (const s of ctx.symbols) {
    const c = closes(ctx, s, lookback - 1);
    if (c.length < lookback || ctx.view.openToday(s) === undefined) continue;
    const mean = c.reduce((a, b) => a + b, 0) / c.length;
    const sd = Math.sqrt(c.reduce((a, b) => a + (b - mean) ** 2, 0) / c.length);
    const z = sd === 0 ? 0 : (c.at(-1)! - mean) / sd;
    const holding = ctx.desk.portfolio.shares(s) > 0;
    if (z < entryZ || (holding && z < 0)) keep.push(s);
  }
  const slots = Math.max(3, Math.ceil(ctx.symbols.length / 4));
  const chosen = keep.slice(0, slots);
  const targets = equalWeightTargets(ctx, chosen, slots);
  // Positions already held keep their size, so a symbol is not churned while it reverts.
  for (const s of chosen) {
    const held = ctx.desk.portfolio.shares(s);
    if (held > 0) targets.set(s, held);
  }
  rebalance(ctx, targets, steps);
  return chosen.length ? `holding oversold symbols: ${chosen.join(', ')}` : 'nothing oversold: in cash';
}

/** Deterministic rule-based agents: offline baselines that trade through the same desk as LLM agents. */
export class StrategyAgent implements TradingAgent {
  constructor(
    readonly strategy: StrategyName,
    readonly params: StrategyParams = {},
  ) {}

  async run(ctx: AgentContext): Promise<AgentRun> {
    if (this.params.decisionDelayMs) await sleep(this.params.decisionDelayMs, undefined, { signal: ctx.signal });
    ctx.desk.count('get_price');
    const steps: ReasoningStep[] = [];
    const summary =
      this.strategy === 'buy-and-hold'
        ? decideBuyAndHold(ctx, steps)
        : this.strategy === 'momentum'
          ? decideMomentum(ctx, steps, this.params)
          : decideMeanReversion(ctx, steps, this.params);
    steps.unshift({ step: 0, role: 'assistant', content: summary });
    return { steps, tokenUsage: { ...NO_TOKENS }, summary, finished: true };
  }
}
