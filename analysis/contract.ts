// The versioned contract between the orchestrator (worker) and the analysis pipeline running in a
// sandbox (child process or container). The worker writes `job.json` and the market data into the
// job folder, the pipeline writes its artifacts there, prints its log as NDJSON on stdout and ends
// with `manifest.json`. Completion is read from the exit code and the manifest, never from log text.

export const ANALYSIS_CONTRACT_VERSION = 1;

export const PIPELINES = [
  'comprehensive',
  'financial-only',
  'model-only',
  'news-only',
  'model-to-price',
  'news-to-price',
] as const;
export type Pipeline = (typeof PIPELINES)[number];

export const ANALYSTS = ['market', 'news', 'fundamentals', 'sentiment'] as const;
export type Analyst = (typeof ANALYSTS)[number];

/** Exit codes of the pipeline process: anything else (or a signal) is a failure. */
export const PIPELINE_EXIT = { completed: 0, failed: 1, badSpec: 2, llmTimeout: 3 } as const;

export const JOB_SPEC_FILE = 'job.json';
export const MANIFEST_FILE = 'manifest.json';
export const EXECUTION_LOG_FILE = 'info.log';
export const INPUT_DIR = 'input';

export type LlmSpec =
  | { mode: 'deterministic' }
  | {
      mode: 'openai';
      /** Configured model name (our catalogue) and the provider's model id. */
      name: string;
      model: string;
      baseURL: string;
      /** Environment variable holding the key inside the sandbox; the key never lands in job.json. */
      apiKeyEnv?: string;
      requestTimeoutMs: number;
      pricing?: { promptPerMillion: number; completionPerMillion: number };
    };

export interface AnalysisJobSpec {
  version: typeof ANALYSIS_CONTRACT_VERSION;
  jobId: string;
  owner: string;
  ticker: string;
  company: string;
  pipeline: Pipeline;
  /** Analysis date: the pipeline sees no market data after it. */
  asOf: string;
  query?: string;
  analysts: Analyst[];
  debateRounds: number;
  riskRounds: number;
  llm: LlmSpec;
  /** Paths relative to the job folder. */
  inputs: { bars: string; benchmark?: string };
}

/** One line of the pipeline's stdout. NL is the model's prose, LOG a system line. */
export interface PipelineLogLine {
  t: 'NL' | 'LOG';
  msg: string;
  step?: string;
  /** Present on the first line of a step: the pipeline's progress for status displays. */
  stage?: string;
}

export interface ManifestFile {
  /** Relative to the job folder, forward slashes. */
  path: string;
  kind: 'log' | 'model' | 'report' | 'report-pdf' | 'summary' | 'data';
  size: number;
  sha256: string;
  contentType: string;
}

export type Rating = 'BUY' | 'OVERWEIGHT' | 'HOLD' | 'UNDERWEIGHT' | 'SELL';

export interface AnalysisResult {
  decision: 'BUY' | 'SELL' | 'HOLD';
  rating: Rating;
  confidence: number;
  reasons: string[];
  lastClose: number;
  targetPrice?: number;
  fairValue?: number;
  /** Analyst reports as markdown, keyed by analyst (TradingAgents' `reports`). */
  reports: Partial<Record<Analyst, string>>;
  summary: string;
}

export interface LlmUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface StepRecord {
  id: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

export interface AnalysisManifest {
  version: typeof ANALYSIS_CONTRACT_VERSION;
  jobId: string;
  ticker: string;
  pipeline: Pipeline;
  status: 'completed' | 'failed' | 'llm_timeout';
  error?: { kind: string; message: string };
  startedAt: string;
  finishedAt: string;
  steps: StepRecord[];
  usage: LlmUsage;
  result?: AnalysisResult;
  files: ManifestFile[];
}
