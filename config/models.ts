import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LlmModel, ModelSpec } from '../trading/agents/modelSpec.js';
import { STRATEGY_NAMES } from '../trading/agents/strategies.js';

const StrategyParams = z
  .object({
    lookback: z.number().int().min(2).max(500).optional(),
    top: z.number().int().min(1).max(100).optional(),
    entry_z: z.number().optional(),
    decision_delay_ms: z.number().int().min(0).max(600_000).optional(),
  })
  .strict();

const LlmSettings = z
  .object({
    model: z.string().min(1),
    base_url: z.string().url(),
    /** Name of the environment variable holding the key: keys never live in the config file or in workflow history. */
    api_key_env: z.string().min(1).optional(),
    max_steps: z.number().int().min(1).max(200).default(30),
    timeout_ms: z.number().int().min(1000).max(600_000).default(120_000),
    temperature: z.number().min(0).max(2).optional(),
    /** Dollars per million tokens, for the cost shown per job and model. */
    pricing: z
      .object({ prompt_per_million: z.number().min(0), completion_per_million: z.number().min(0) })
      .strict()
      .optional(),
  })
  .strict();

const ModelEntry = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'letters, digits, . _ : - (at most 64)')
      .describe('the model signature used in requests and results'),
    enabled: z.boolean().default(true),
    initial_cash: z.number().positive().optional(),
    strategy: z.enum(STRATEGY_NAMES).optional(),
    params: StrategyParams.optional(),
    llm: LlmSettings.optional(),
  })
  .strict()
  .refine((m) => Boolean(m.strategy) !== Boolean(m.llm), { message: 'a model has exactly one of `strategy` or `llm`' });

const TradeflowConfig = z
  .object({
    initial_cash: z.number().positive().default(10_000),
    models: z.array(ModelEntry).min(1),
  })
  .strict();

/** AI-Trader's `configs/default_config.json`, read so its users can move over unchanged. */
const AiTraderConfig = z.object({
  agent_type: z.string().optional(),
  models: z.array(
    z.object({
      name: z.string().optional(),
      basemodel: z.string(),
      signature: z.string(),
      enabled: z.boolean().default(true),
      openai_base_url: z.string().optional(),
      openai_api_key: z.string().optional(),
    }),
  ),
  agent_config: z
    .object({ max_steps: z.number().int().optional(), initial_cash: z.number().optional() })
    .partial()
    .optional(),
});

export type { LlmModel, ModelSpec, StrategyModel } from '../trading/agents/modelSpec.js';

export class ModelRegistry {
  private readonly byId: Map<string, ModelSpec>;

  constructor(models: readonly ModelSpec[]) {
    this.byId = new Map(models.map((m) => [m.id, m]));
  }

  get(id: string): ModelSpec | undefined {
    return this.byId.get(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  list(): ModelSpec[] {
    return [...this.byId.values()];
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describeZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

export function parseModelsConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): ModelRegistry {
  const isAiTrader =
    typeof raw === 'object' &&
    raw !== null &&
    Array.isArray((raw as { models?: unknown }).models) &&
    (raw as { models: unknown[] }).models.some((m) => typeof m === 'object' && m !== null && 'signature' in m);
  if (isAiTrader) {
    const parsed = AiTraderConfig.safeParse(raw);
    if (!parsed.success) throw new ConfigError(`AI-Trader config: ${describeZodError(parsed.error)}`);
    const cfg = parsed.data;
    return new ModelRegistry(
      cfg.models
        .filter((m) => m.enabled)
        .map(
          (m): LlmModel => ({
            id: m.signature,
            kind: 'llm',
            model: m.basemodel,
            baseUrl: m.openai_base_url ?? env.OPENAI_API_BASE ?? 'https://api.openai.com/v1',
            apiKeyEnv: 'OPENAI_API_KEY',
            ...(m.openai_api_key ? { inlineApiKey: m.openai_api_key } : {}),
            maxSteps: cfg.agent_config?.max_steps ?? 30,
            timeoutMs: 120_000,
            initialCash: cfg.agent_config?.initial_cash ?? 10_000,
          }),
        ),
    );
  }
  const parsed = TradeflowConfig.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`models config: ${describeZodError(parsed.error)}`);
  const cfg = parsed.data;
  const ids = new Set<string>();
  const models: ModelSpec[] = [];
  for (const m of cfg.models) {
    if (ids.has(m.id)) throw new ConfigError(`models config: model id '${m.id}' appears twice`);
    ids.add(m.id);
    if (!m.enabled) continue;
    const initialCash = m.initial_cash ?? cfg.initial_cash;
    if (m.strategy) {
      const p = m.params ?? {};
      models.push({
        id: m.id,
        kind: 'strategy',
        strategy: m.strategy,
        params: {
          ...(p.lookback !== undefined ? { lookback: p.lookback } : {}),
          ...(p.top !== undefined ? { top: p.top } : {}),
          ...(p.entry_z !== undefined ? { entryZ: p.entry_z } : {}),
          ...(p.decision_delay_ms !== undefined ? { decisionDelayMs: p.decision_delay_ms } : {}),
        },
        initialCash,
      });
    } else if (m.llm) {
      models.push({
        id: m.id,
        kind: 'llm',
        model: m.llm.model,
        baseUrl: m.llm.base_url,
        ...(m.llm.api_key_env ? { apiKeyEnv: m.llm.api_key_env } : {}),
        maxSteps: m.llm.max_steps,
        timeoutMs: m.llm.timeout_ms,
        ...(m.llm.temperature !== undefined ? { temperature: m.llm.temperature } : {}),
        ...(m.llm.pricing
          ? {
              pricing: {
                promptPerMillion: m.llm.pricing.prompt_per_million,
                completionPerMillion: m.llm.pricing.completion_per_million,
              },
            }
          : {}),
        initialCash,
      });
    }
  }
  if (models.length === 0) throw new ConfigError('models config: no enabled model');
  return new ModelRegistry(models);
}

export async function loadModelsConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ModelRegistry> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read models config ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`models config ${path} is not JSON: ${(err as Error).message}`);
  }
  return parseModelsConfig(raw, env);
}

export { apiKeyFor } from '../trading/agents/modelSpec.js';
