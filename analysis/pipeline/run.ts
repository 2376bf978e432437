import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Bar } from '../../trading/bars.js';
import { type AnalystReport, runAnalyst } from '../agents/analysts.js';
import { decisionFor, netScore, ratingFor, runDebateAndDecision, type TeamOutcome } from '../agents/team.js';
import { type AgentVoice, DeterministicVoice, LlmTimeoutError, LlmVoice } from '../agents/voice.js';
import { writeDcfWorkbook } from '../artifacts/dcfWorkbook.js';
import { renderMarkdownPdf } from '../artifacts/markdownPdf.js';
import {
  ANALYSIS_CONTRACT_VERSION,
  type AnalysisJobSpec,
  type AnalysisManifest,
  type AnalysisResult,
  EXECUTION_LOG_FILE,
  MANIFEST_FILE,
  type StepRecord,
} from '../contract.js';
import { computeMarketFacts, type MarketFacts } from '../marketFacts.js';
import { computeDcfSummary, type DcfInput, type DcfSummary, dcfInputFromFacts } from '../valuation.js';
import { PIPELINE_DEFINITIONS, STAGE_NAMES, type StepId } from './definitions.js';
import { financialSummary, newsSummary, priceAdjustment, professionalReport } from './documents.js';
import { listOutputs } from './manifest.js';
import { PipelineLog } from './pipelineLog.js';

interface BarsFile {
  symbol: string;
  bars: Bar[];
  /** The market source the bars came from (absent from workers before it was written). */
  source?: string;
}

/** State the steps hand to each other. */
interface RunState {
  facts?: MarketFacts;
  marketSource?: string;
  dcfInput?: DcfInput;
  dcf?: DcfSummary;
  reports: AnalystReport[];
  team?: TeamOutcome;
  result?: AnalysisResult;
}

async function writeOutput(jobDir: string, path: string, data: string | Uint8Array): Promise<void> {
  const full = join(jobDir, path);
  await mkdir(dirname(full), { recursive: true });
  // Write-then-rename: a download never sees half a file, and a rerun replaces files whole.
  await writeFile(`${full}.partial`, data);
  await rename(`${full}.partial`, full);
}

function voiceFor(spec: AnalysisJobSpec, log: PipelineLog): AgentVoice {
  if (spec.llm.mode === 'deterministic') return new DeterministicVoice();
  const key = spec.llm.apiKeyEnv ? process.env[spec.llm.apiKeyEnv] : undefined;
  const name = spec.llm.name;
  return new LlmVoice(spec.llm, key ?? 'not-needed', (call) =>
    log.system(`[LLM] ${name} ${call.role}: ${call.promptTokens} prompt + ${call.completionTokens} completion tokens`),
  );
}

function resultFromScore(
  facts: MarketFacts,
  score: number,
  reports: AnalystReport[],
  extra: Partial<AnalysisResult>,
): AnalysisResult {
  const rating = ratingFor(score);
  return {
    decision: decisionFor(rating),
    rating,
    confidence: Math.round(Math.min(0.95, 0.5 + Math.abs(score)) * 100) / 100,
    reasons: reports.flatMap((r) => r.points.slice(0, 2).map((p) => p.text)),
    lastClose: facts.lastClose,
    reports: Object.fromEntries(reports.map((r) => [r.analyst, r.markdown])),
    summary: `${facts.ticker} ${rating} (${decisionFor(rating)}) from ${reports.map((r) => r.analyst).join(', ') || 'the model'}`,
    ...extra,
  };
}

/** Runs the job in `jobDir` and writes the manifest; returns it (the CLI turns its status into the exit code). */
export async function runPipeline(jobDir: string, spec: AnalysisJobSpec): Promise<AnalysisManifest> {
  const startedAt = new Date().toISOString();
  const log = new PipelineLog(join(jobDir, EXECUTION_LOG_FILE));
  const voice = voiceFor(spec, log);
  const def = PIPELINE_DEFINITIONS[spec.pipeline];
  const T = spec.ticker;
  const state: RunState = { reports: [] };
  const steps: StepRecord[] = [];
  const llmLabel = spec.llm.mode === 'deterministic' ? 'deterministic agents (offline)' : `LLM ${spec.llm.name}`;
  log.system(
    `PIPELINE SESSION STARTED job=${spec.jobId} ticker=${T} pipeline=${spec.pipeline} as-of=${spec.asOf} agents=${llmLabel}`,
  );

  const stepBodies: Record<StepId, () => Promise<void>> = {
    data: async () => {
      const main = JSON.parse(await readFile(join(jobDir, spec.inputs.bars), 'utf8')) as BarsFile;
      const bench = spec.inputs.benchmark
        ? (JSON.parse(await readFile(join(jobDir, spec.inputs.benchmark), 'utf8')) as BarsFile)
        : undefined;
      state.facts = computeMarketFacts(
        T,
        spec.asOf,
        main.bars,
        bench ? { symbol: bench.symbol, bars: bench.bars } : undefined,
      );
      const f = state.facts;
      if (main.source) state.marketSource = main.source;
      // Said in the log (and so in the job's live stream) before anything is made from the prices.
      if (main.source?.startsWith('synthetic')) {
        log.system(`market data: ${main.source}: SYNTHETIC prices (a seeded random walk), not the market`, 'data');
      }
      log.system(`${f.sessions} sessions ${f.firstDate}..${f.lastDate}, last close $${f.lastClose.toFixed(2)}`, 'data');
      await writeOutput(jobDir, `financials/${T}_market_statistics.json`, JSON.stringify(f, null, 2));
      state.dcfInput = dcfInputFromFacts(f, spec.company);
      state.dcf = computeDcfSummary(state.dcfInput);
    },
    model: async () => {
      const values = await writeDcfWorkbook(join(jobDir, `models/${T}_financial_model.xlsx`), state.dcfInput!);
      await writeOutput(jobDir, `models/${T}_financial_model_computed_values.json`, JSON.stringify(values, null, 2));
      log.system(
        `DCF workbook written: WACC ${(values.wacc * 100).toFixed(2)}%, blended value $${values.blendedValue.toFixed(2)} (${(values.upside * 100).toFixed(1)}% vs close)`,
        'model',
      );
    },
    analysts: async () => {
      const chosen = def.analysts ?? spec.analysts;
      log.system(`running ${chosen.join(', ')} in parallel`, 'analysts');
      state.reports = await Promise.all(chosen.map((a) => runAnalyst(a, state.facts!, state.dcf!, voice)));
      for (const r of state.reports) {
        log.prose(`${r.analyst} analyst`, r.markdown, 'analysts');
        await writeOutput(jobDir, `analysts/${T}_${r.analyst}_report.md`, r.markdown);
      }
    },
    debate: async () => {
      state.team = await runDebateAndDecision(
        state.facts!,
        state.reports,
        { debateRounds: spec.debateRounds, riskRounds: spec.riskRounds, fairValue: state.dcf?.blendedValue },
        voice,
        (role, text) => log.prose(role, text, 'debate'),
      );
      state.result = state.team.decision;
      await writeOutput(jobDir, 'decision.json', JSON.stringify(state.result, null, 2));
      log.system(`DECISION: ${state.result.rating} (${state.result.decision})`, 'debate');
    },
    price: async () => {
      const f = state.facts!;
      const fromModel = def.priceFrom === 'model';
      const score = fromModel ? Math.max(-1, Math.min(1, state.dcf!.upside * 1.5)) : netScore(state.reports);
      const target = fromModel
        ? state.dcf!.blendedValue
        : f.lastClose * (1 + Math.max(-0.15, Math.min(0.15, score * 0.2)));
      state.result = resultFromScore(f, score, state.reports, {
        targetPrice: Math.round(target * 100) / 100,
        ...(fromModel ? { fairValue: Math.round(state.dcf!.blendedValue * 100) / 100 } : {}),
      });
      const detail = await voice.speak({
        role: 'Price analyst',
        instructions: 'Explain in one paragraph how the evidence moves the fair price.',
        facts: fromModel
          ? `DCF blended value ${state.dcf!.blendedValue.toFixed(2)}, WACC ${state.dcf!.wacc.toFixed(4)}`
          : state.reports.flatMap((r) => r.points.map((p) => `- ${p.text}`)).join('\n'),
        draft: fromModel
          ? `The DCF workbook values ${T} at $${state.dcf!.blendedValue.toFixed(2)} per share (average of perpetual-growth $${state.dcf!.perpetuityValue.toFixed(2)} and exit-multiple $${state.dcf!.exitMultipleValue.toFixed(2)}), discounting at ${(state.dcf!.wacc * 100).toFixed(2)}%. The adjusted price is that value; the workbook's sensitivity grid shows how it moves with the discount rate and terminal growth.`
          : `The news flow scores ${score.toFixed(2)} on a -1..+1 scale; at 20% of a full-conviction move, capped at ±15%, it shifts the fair price from $${f.lastClose.toFixed(2)} to $${target.toFixed(2)}.`,
      });
      log.prose('Price analyst', detail, 'price');
      const explanation = priceAdjustment(spec, f, fromModel ? 'model' : 'news', state.result, detail);
      await writeOutput(jobDir, `models/${T}_price_adjustment_explanation.md`, explanation);
      await writeOutput(
        jobDir,
        `models/${T}_price_adjustment_explanation.pdf`,
        await renderMarkdownPdf(explanation, { title: `${T} price adjustment`, author: 'tradeflow' }),
      );
    },
    report: async () => {
      const markdown = professionalReport({
        spec,
        facts: state.facts!,
        dcfInput: state.dcfInput,
        dcf: state.dcf,
        reports: state.reports,
        team: state.team!,
        usage: voice.usage(),
        llmLabel,
        ...(state.marketSource ? { marketSource: state.marketSource } : {}),
      });
      const base = `reports/${T}_Professional_Analysis_Report`;
      await writeOutput(jobDir, `${base}.md`, markdown);
      const pdf = await renderMarkdownPdf(markdown, {
        title: `${spec.company} (${T}) — Professional Analysis Report`,
        author: 'tradeflow',
        subject: `${T} analysis as of ${spec.asOf}`,
        keywords: [T, spec.pipeline, 'analysis'],
      });
      await writeOutput(jobDir, `${base}.pdf`, pdf);
      log.system(`report written: ${markdown.length} characters of markdown, ${pdf.byteLength} bytes of PDF`, 'report');
    },
    summaries: async () => {
      for (const kind of def.summaries) {
        const text =
          kind === 'financial'
            ? financialSummary(spec, state.facts!, state.reports, state.dcf)
            : newsSummary(spec, state.facts!, state.reports);
        await writeOutput(jobDir, `summaries/${T}_${kind}_summary.md`, text);
        // Rendered here, once, so a download as PDF is a file read and never work on the API's event loop.
        await writeOutput(
          jobDir,
          `summaries/${T}_${kind}_summary.pdf`,
          await renderMarkdownPdf(text, { title: `${T} ${kind} summary`, author: 'tradeflow' }),
        );
      }
      log.system(`summaries written: ${def.summaries.join(', ')}`, 'summaries');
    },
  };

  let status: AnalysisManifest['status'] = 'completed';
  let error: AnalysisManifest['error'];
  for (const step of def.steps) {
    const t0 = Date.now();
    log.stage(step, STAGE_NAMES[step]);
    try {
      await stepBodies[step]();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      status = err instanceof LlmTimeoutError ? 'llm_timeout' : 'failed';
      error = { kind: e.name, message: e.message };
      log.system(`step ${step} failed: ${e.name}: ${e.message}`, step);
      break;
    } finally {
      steps.push({
        id: step,
        startedAt: new Date(t0).toISOString(),
        finishedAt: new Date().toISOString(),
        durationMs: Date.now() - t0,
      });
    }
  }
  if (status === 'completed' && !state.result && state.facts) {
    // model-only: the view comes from the valuation alone.
    const score = Math.max(-1, Math.min(1, state.dcf!.upside * 1.5));
    state.result = resultFromScore(state.facts, score, state.reports, {
      fairValue: Math.round(state.dcf!.blendedValue * 100) / 100,
      targetPrice: Math.round(state.dcf!.blendedValue * 100) / 100,
    });
  }
  const usage = voice.usage();
  log.system(
    status === 'completed'
      ? `PIPELINE SESSION COMPLETED: ${state.result?.summary ?? ''}; ${usage.calls} LLM calls, $${usage.costUsd.toFixed(4)}`
      : `PIPELINE SESSION ENDED: ${status}`,
  );
  const manifest: AnalysisManifest = {
    version: ANALYSIS_CONTRACT_VERSION,
    jobId: spec.jobId,
    ticker: T,
    pipeline: spec.pipeline,
    status,
    ...(error ? { error } : {}),
    startedAt,
    finishedAt: new Date().toISOString(),
    steps,
    usage,
    ...(status === 'completed' && state.result ? { result: state.result } : {}),
    files: await listOutputs(jobDir),
  };
  await writeOutput(jobDir, MANIFEST_FILE, JSON.stringify(manifest, null, 2));
  return manifest;
}
