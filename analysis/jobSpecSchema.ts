import { z } from 'zod';
import { ANALYSIS_CONTRACT_VERSION, ANALYSTS, type AnalysisJobSpec, PIPELINES } from './contract.js';

/** The pipeline checks `job.json` itself: the contract is versioned and a container may outlive its worker. */
export const ANALYSES_SPEC_SCHEMA: z.ZodType<AnalysisJobSpec> = z.object({
  version: z.literal(ANALYSIS_CONTRACT_VERSION),
  jobId: z.string().min(1),
  owner: z.string().min(1),
  ticker: z.string().regex(/^[A-Z0-9.^-]{1,12}$/),
  company: z.string().min(1),
  pipeline: z.enum(PIPELINES),
  asOf: z.iso.date(),
  query: z.string().optional(),
  analysts: z.array(z.enum(ANALYSTS)).min(1),
  debateRounds: z.number().int().min(1).max(5),
  riskRounds: z.number().int().min(1).max(3),
  llm: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('deterministic') }),
    z.object({
      mode: z.literal('openai'),
      name: z.string(),
      model: z.string(),
      baseURL: z.string(),
      apiKeyEnv: z.string().optional(),
      requestTimeoutMs: z.number().int().positive(),
      pricing: z.object({ promptPerMillion: z.number(), completionPerMillion: z.number() }).optional(),
    }),
  ]),
  inputs: z.object({ bars: z.string(), benchmark: z.string().optional() }),
});
