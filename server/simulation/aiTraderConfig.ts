import { lstat, readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { ApiError } from '../http/errors.js';

/** What a trigger takes from an AI-Trader config (`config_path`): its enabled models, dates and cash. */
export interface TriggerConfig {
  /** The path as the request gave it, for messages and the job's record. */
  configPath: string;
  models: string[];
  start?: string;
  end?: string;
  initialCash?: number;
}

const MAX_CONFIG_BYTES = 1024 * 1024;
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

/** AI-Trader's `configs/*.json`, the fields a trigger reads; the rest (agent type, market, logging) is theirs. */
const AiTraderTriggerConfig = z.object({
  date_range: z.object({ init_date: isoDate.optional(), end_date: isoDate.optional() }).partial().optional(),
  models: z
    .array(z.object({ signature: z.string().min(1).max(200), enabled: z.boolean().default(true) }).passthrough())
    .min(1),
  agent_config: z
    .object({ initial_cash: z.number().positive().max(1e12).optional() })
    .passthrough()
    .optional(),
});

const refuse = (configPath: string, reason: string, extra: Record<string, unknown> = {}) =>
  new ApiError('invalid_config', `config_path '${configPath}': ${reason}`, { config_path: configPath, ...extra });

/**
 * Reads the AI-Trader config a trigger names. The path, relative or absolute, must lead to a file inside
 * `configDir` (after symlinks are followed): the API reads no other file of the machine it runs on.
 */
export async function loadTriggerConfig(configDir: string, configPath: string): Promise<TriggerConfig> {
  if (configPath.includes('\0')) throw refuse(configPath.replaceAll('\0', '\\0'), 'holds a NUL character');
  const root = await realpath(configDir).catch(() => {
    throw refuse(configPath, 'this deployment has no config folder (TRADEFLOW_CONFIG_DIR)');
  });
  const inside = (p: string) => {
    const rel = relative(root, p);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  };
  const candidate = isAbsolute(configPath) ? resolve(configPath) : resolve(root, configPath);
  if (!inside(candidate)) {
    throw refuse(configPath, 'is outside the config folder; name a file inside it, relative or absolute', {
      config_dir: root,
    });
  }
  const real = await realpath(candidate).catch(() => {
    throw refuse(configPath, 'no such file in the config folder', { config_dir: root });
  });
  if (!inside(real)) throw refuse(configPath, 'leads outside the config folder (a link)', { config_dir: root });
  const info = await lstat(real);
  if (!info.isFile()) throw refuse(configPath, 'is not a file');
  if (info.size > MAX_CONFIG_BYTES) throw refuse(configPath, `is over ${MAX_CONFIG_BYTES} bytes`);

  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(real, 'utf8'));
  } catch (err) {
    throw refuse(configPath, `is not JSON (${(err as Error).message})`);
  }
  const parsed = AiTraderTriggerConfig.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw refuse(configPath, `is not an AI-Trader config: ${why}`);
  }
  const cfg = parsed.data;
  const models = [...new Set(cfg.models.filter((m) => m.enabled).map((m) => m.signature))];
  if (models.length === 0) throw refuse(configPath, 'enables no model');
  const start = cfg.date_range?.init_date;
  const end = cfg.date_range?.end_date;
  if (start && end && start > end) throw refuse(configPath, `date_range starts (${start}) after it ends (${end})`);
  const initialCash = cfg.agent_config?.initial_cash;
  return {
    configPath,
    models,
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    ...(initialCash !== undefined ? { initialCash } : {}),
  };
}
