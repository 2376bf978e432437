import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Cidr, parseAllowList, parseCidr, type WebhookAllowList } from '../jobs/webhookPolicy.js';
import { NASDAQ_100 } from '../trading/market-data/nasdaq100.js';
import { loadRealtimeSettings, type RealtimeSettings } from './realtime.js';

const projectRoot = resolve(fileURLToPath(import.meta.url), '../..');

/** An address, or unset; empty is unset (compose files pass `${VAR:-}`). */
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TLS_CERT: z.string().optional(),
  TEMPORAL_TLS_KEY: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_UI_URL: z.string().optional(),
  MONGODB_URI: z.string().optional(),
  MONGODB_DB: z.string().default('tradeflow'),
  TRADEFLOW_DATA_DIR: z.string().default(resolve(projectRoot, '.data')),
  TRADEFLOW_MODELS: z.string().default(resolve(projectRoot, 'config/models.default.json')),
  // Compose passes an unset variable as '': that is unset here too.
  MARKET_DATA_SOURCE: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['auto', 'synthetic', 'files', 'yahoo']).optional(),
  ),
  MARKET_DATA_FILES: z.string().optional(),
  MARKET_HOURLY_FILES: z.string().optional(),
  NEWS_FILES: z.string().optional(),
  MARKET_DATA_SEED: z.coerce.number().int().default(42),
  MARKET_SYMBOLS: z.string().optional(),
  // For tests: a Yahoo-shaped server on loopback that takes the place of Yahoo's API hosts.
  TRADEFLOW_YAHOO_URL: optionalUrl,
  MAX_SIMULATION_DAYS: z.coerce.number().int().min(1).max(5000).default(260),
  SIMULATION_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  JOB_WRITES_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
  TASK_QUEUE_PREFIX: z.string().default(''),
  SANDBOX_MODE: z.enum(['process', 'docker']).default('process'),
  DOCKER_HOST: z.string().optional(),
  SANDBOX_IMAGE: z.string().optional(),
  SANDBOX_MEMORY_MB: z.coerce.number().int().min(64).max(65536).default(1024),
  SANDBOX_CPUS: z.coerce.number().min(0.1).max(64).default(1),
  SANDBOX_NETWORK: z.string().optional(),
  SANDBOX_STOP_GRACE_S: z.coerce.number().min(0).max(600).default(10),
  ANALYSIS_TIMEOUT_S: z.coerce.number().int().min(5).max(86_400).default(1800),
  ANALYSIS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  ANALYSIS_BENCHMARK: z.string().default('QQQ'),
  TRADEFLOW_ALLOWED_ORIGINS: z.string().optional(),
  /** `off` only on a loopback HOST (refused otherwise), and announced at every start. */
  TRADEFLOW_AUTH: z.enum(['on', 'off']).default('on'),
  TRADEFLOW_TRUSTED_NETWORKS: z.string().optional(),
  TRADEFLOW_TRUSTED_USER: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes')
    .default('trusted-network'),
  TRADEFLOW_ALLOWED_HOSTS: z.string().optional(),
  /** Reverse proxies (CIDRs) whose X-Forwarded-For names the client; empty: the socket's peer is the client. */
  TRADEFLOW_TRUSTED_PROXIES: z.string().optional(),
  TRADEFLOW_RATE_LIMIT_WINDOW_S: z.coerce.number().int().min(1).max(3600).default(60),
  TRADEFLOW_RATE_LIMIT_PER_KEY: z.coerce.number().int().min(1).default(600),
  TRADEFLOW_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(1200),
  TRADEFLOW_AUTH_FAILURES_PER_IP: z.coerce.number().int().min(1).default(30),
  TRADEFLOW_MAX_ACTIVE_JOBS_PER_USER: z.coerce.number().int().min(1).default(20),
  TRADEFLOW_SIGN_IN_PER_IP: z.coerce.number().int().min(1).default(10),
  TRADEFLOW_SESSION_TTL_H: z.coerce
    .number()
    .min(0.01)
    .max(24 * 90)
    .default(168),
  /** Where sign-in codes are sent from (`smtp://…` or `smtps://user:pass@host`); unset: to the log, on loopback only. */
  TRADEFLOW_SMTP_URL: z.string().optional(),
  TRADEFLOW_MAIL_FROM: z.string().default('tradeflow <no-reply@localhost>'),
  /** The address users reach the API at (OAuth redirect URIs are built on it); unset: the request's own. */
  TRADEFLOW_PUBLIC_URL: optionalUrl,
  /** Sign-in with Google (any OpenID Connect issuer, exactly as its tokens name it: the tests use one on loopback). */
  TRADEFLOW_GOOGLE_CLIENT_ID: z.string().optional(),
  TRADEFLOW_GOOGLE_CLIENT_SECRET: z.string().optional(),
  TRADEFLOW_GOOGLE_ISSUER: optionalUrl.transform((u) => u ?? 'https://accounts.google.com'),
  /** Sign-in with GitHub (or GitHub Enterprise: its base URL, and its API at `<base>/api/v3`). */
  TRADEFLOW_GITHUB_CLIENT_ID: z.string().optional(),
  TRADEFLOW_GITHUB_CLIENT_SECRET: z.string().optional(),
  TRADEFLOW_GITHUB_URL: optionalUrl.transform((u) => u ?? 'https://github.com'),
  TRADEFLOW_GITHUB_API_URL: optionalUrl,
  // Empty is unset (compose files pass `${VAR:-}`): a secret is then generated into the data folder.
  TRADEFLOW_WEBHOOK_SECRET: z
    .union([
      z.literal(''),
      z.string().regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be a Standard Webhooks secret: whsec_ and base64'),
    ])
    .optional(),
  TRADEFLOW_WEBHOOK_ALLOW: z.string().optional(),
  /** AI-Trader's working folder: `config_path` of a trigger resolves inside it (`configs/default_config.json`). */
  TRADEFLOW_CONFIG_DIR: z.string().default(resolve(projectRoot, 'ai-trader')),
});

export interface Settings {
  port: number;
  host: string;
  temporal: {
    /** Unset means: start the embedded dev server. */
    address?: string;
    namespace: string;
    tls?: { cert: string; key: string };
    apiKey?: string;
    uiUrl?: string;
  };
  mongo: { uri?: string; db: string };
  dataDir: string;
  modelsPath: string;
  /**
   * `auto` (the default without files) is Yahoo where it answers at start, else the synthetic walk: the
   * process resolves it once with `resolveMarketData` (config/services.ts) before it makes a source.
   */
  marketData:
    | { source: 'auto'; seed: number; symbols?: string[]; yahooUrl?: string }
    | {
        source: 'synthetic';
        seed: number;
        symbols?: string[];
        /** Set when `auto` fell back to the walk: why Yahoo was not used (for the start banner). */
        fallback?: string;
      }
    | { source: 'files'; files: string[]; symbols?: string[] }
    | { source: 'yahoo'; symbols: string[]; yahooUrl?: string };
  /** AI-Trader hourly JSONL files for hourly backtests (`interval: "1h"`); none: hourly runs are refused. */
  hourlyFiles: string[];
  /** News JSONL files the agents may read, point in time (trading/news.ts); none: no news tool. */
  newsFiles: string[];
  maxSimulationDays: number;
  simulationConcurrency: number;
  /** Simulation writes (a job's commits and end) one worker runs at once. */
  jobWritesConcurrency: number;
  logLevel: z.infer<typeof Env>['LOG_LEVEL'];
  /** `chat`: the chat's answering activity (LLM calls of minutes, kept apart from bookkeeping). */
  taskQueues: { orchestrator: string; simulation: string; jobWrites: string; analysis: string; chat: string };
  /** The live price and news hubs (config/realtime.ts). */
  realtime: RealtimeSettings;
  sandbox: {
    mode: 'process' | 'docker';
    dockerHost?: string;
    /** Unset: the worker builds the pipeline image from local parts at start. */
    image?: string;
    memoryMb: number;
    cpus: number;
    /** Unset: no network at all inside containers. */
    network?: string;
    stopGraceMs: number;
  };
  analysis: { timeoutMs: number; concurrency: number; benchmark: string };
  /** Who may call the API, and how much (server/auth/). */
  auth: AuthSettings;
  /** Other sites whose pages may write to the API (browsers' cross-site writes are refused otherwise). */
  allowedOrigins: string[];
  /** The only folder a trigger's `config_path` may read from. */
  configDir: string;
  /** Completion webhooks: the signing secret (unset: generated into the data folder) and what the SSRF policy opens. */
  webhooks: { secret?: string; allow: WebhookAllowList };
}

export interface AuthSettings {
  /** False only on a loopback address (TRADEFLOW_AUTH=off): every request then acts as the admin. */
  enabled: boolean;
  /** Proxies whose `X-Forwarded-For` is believed (rate limits and logs then see the client behind them). */
  trustedProxies: Cidr[];
  /** Requests from these networks act as `trustedUser` with read and run scopes. */
  trustedNetworks: Cidr[];
  trustedUser: string;
  /** Host names (with or without port) besides the loopback ones that requests may name in `Host`. */
  allowedHosts: string[];
  rateLimit: { windowMs: number; perKey: number; perIp: number; authFailuresPerIp: number };
  maxActiveJobsPerUser: number;
  /** Sign-in requests (codes asked for, codes tried) per address per rate-limit window. */
  signInPerIp: number;
  sessionTtlMs: number;
  smtpUrl?: string;
  mailFrom: string;
  /** The API's public address (no trailing slash), for OAuth redirect URIs. */
  publicUrl?: string;
  google?: OpenIdSettings;
  github?: GitHubSettings;
}

export interface OpenIdSettings {
  clientId: string;
  clientSecret: string;
  issuer: string;
}

export interface GitHubSettings {
  clientId: string;
  clientSecret: string;
  /** Where the browser signs in: https://github.com or a GitHub Enterprise server. */
  webUrl: string;
  /** Its REST API: https://api.github.com, or `<webUrl>/api/v3` on Enterprise. */
  apiUrl: string;
}

const trimSlash = (u: string) => u.replace(/\/+$/, '');

/** A provider is on when both its client id and secret are set; one without the other is a mistake. */
function oauthClient(name: string, id: string | undefined, secret: string | undefined) {
  if (!id && !secret) return undefined;
  if (!id || !secret) {
    throw new Error(`sign-in with ${name} needs both TRADEFLOW_${name.toUpperCase()}_CLIENT_ID and _CLIENT_SECRET`);
  }
  return { clientId: id, clientSecret: secret };
}

/** Credentials and codes travel to these addresses: plain http only to this machine. */
function secureUrl(name: string, url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
    throw new Error(`${name} must be an https address (plain http only on loopback): ${url}`);
  }
  return url;
}

/** Loopback addresses and names: where turning authentication off is allowed. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

function list(v: string | undefined): string[] | undefined {
  const items = v
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items?.length ? items : undefined;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const e = parsed.data;
  const files = list(e.MARKET_DATA_FILES);
  const symbols = list(e.MARKET_SYMBOLS)?.map((s) => s.toUpperCase());
  const source = e.MARKET_DATA_SOURCE ?? (files?.length ? 'files' : 'auto');
  const yahooUrl = e.TRADEFLOW_YAHOO_URL ? secureUrl('TRADEFLOW_YAHOO_URL', e.TRADEFLOW_YAHOO_URL) : undefined;
  let marketData: Settings['marketData'];
  if (source === 'files') {
    if (!files?.length) throw new Error('MARKET_DATA_SOURCE=files needs MARKET_DATA_FILES (comma-separated paths)');
    marketData = { source, files: files.map((f) => resolve(f)), ...(symbols ? { symbols } : {}) };
  } else if (source === 'yahoo') {
    // Real prices for the NASDAQ-100 unless the symbols are named.
    marketData = { source, symbols: symbols ?? [...NASDAQ_100], ...(yahooUrl ? { yahooUrl } : {}) };
  } else if (source === 'auto') {
    marketData = {
      source,
      seed: e.MARKET_DATA_SEED,
      ...(symbols ? { symbols } : {}),
      ...(yahooUrl ? { yahooUrl } : {}),
    };
  } else {
    marketData = { source, seed: e.MARKET_DATA_SEED, ...(symbols ? { symbols } : {}) };
  }
  if (e.TRADEFLOW_AUTH === 'off' && !isLoopbackHost(e.HOST)) {
    throw new Error(
      `TRADEFLOW_AUTH=off is only allowed on a loopback address, and HOST is ${e.HOST}: keep authentication on, or listen on 127.0.0.1`,
    );
  }
  const cidrs = (name: string, value: string | undefined) =>
    (list(value) ?? []).map((entry) => {
      const cidr = parseCidr(entry);
      if (!cidr) throw new Error(`${name}: '${entry}' is not an address or CIDR`);
      return cidr;
    });
  const trustedNetworks = cidrs('TRADEFLOW_TRUSTED_NETWORKS', e.TRADEFLOW_TRUSTED_NETWORKS);
  const google = oauthClient('google', e.TRADEFLOW_GOOGLE_CLIENT_ID, e.TRADEFLOW_GOOGLE_CLIENT_SECRET);
  const github = oauthClient('github', e.TRADEFLOW_GITHUB_CLIENT_ID, e.TRADEFLOW_GITHUB_CLIENT_SECRET);
  const githubWeb = trimSlash(secureUrl('TRADEFLOW_GITHUB_URL', e.TRADEFLOW_GITHUB_URL));
  const githubApi = trimSlash(
    secureUrl(
      'TRADEFLOW_GITHUB_API_URL',
      e.TRADEFLOW_GITHUB_API_URL ??
        (githubWeb === 'https://github.com' ? 'https://api.github.com' : `${githubWeb}/api/v3`),
    ),
  );
  const tls =
    e.TEMPORAL_TLS_CERT && e.TEMPORAL_TLS_KEY ? { cert: e.TEMPORAL_TLS_CERT, key: e.TEMPORAL_TLS_KEY } : undefined;
  return {
    port: e.PORT,
    host: e.HOST,
    temporal: {
      ...(e.TEMPORAL_ADDRESS ? { address: e.TEMPORAL_ADDRESS } : {}),
      namespace: e.TEMPORAL_NAMESPACE,
      ...(tls ? { tls } : {}),
      ...(e.TEMPORAL_API_KEY ? { apiKey: e.TEMPORAL_API_KEY } : {}),
      ...(e.TEMPORAL_UI_URL ? { uiUrl: e.TEMPORAL_UI_URL } : {}),
    },
    mongo: { ...(e.MONGODB_URI ? { uri: e.MONGODB_URI } : {}), db: e.MONGODB_DB },
    dataDir: resolve(e.TRADEFLOW_DATA_DIR),
    modelsPath: resolve(e.TRADEFLOW_MODELS),
    marketData,
    hourlyFiles: (list(e.MARKET_HOURLY_FILES) ?? []).map((f) => resolve(f)),
    newsFiles: (list(e.NEWS_FILES) ?? []).map((f) => resolve(f)),
    maxSimulationDays: e.MAX_SIMULATION_DAYS,
    simulationConcurrency: e.SIMULATION_CONCURRENCY,
    jobWritesConcurrency: e.JOB_WRITES_CONCURRENCY,
    logLevel: e.LOG_LEVEL,
    realtime: loadRealtimeSettings(env),
    taskQueues: {
      orchestrator: `${e.TASK_QUEUE_PREFIX}orchestrator`,
      simulation: `${e.TASK_QUEUE_PREFIX}simulation`,
      jobWrites: `${e.TASK_QUEUE_PREFIX}job-writes`,
      analysis: `${e.TASK_QUEUE_PREFIX}analysis`,
      chat: `${e.TASK_QUEUE_PREFIX}chat`,
    },
    sandbox: {
      mode: e.SANDBOX_MODE,
      ...(e.DOCKER_HOST ? { dockerHost: e.DOCKER_HOST } : {}),
      ...(e.SANDBOX_IMAGE ? { image: e.SANDBOX_IMAGE } : {}),
      memoryMb: e.SANDBOX_MEMORY_MB,
      cpus: e.SANDBOX_CPUS,
      ...(e.SANDBOX_NETWORK && e.SANDBOX_NETWORK !== 'none' ? { network: e.SANDBOX_NETWORK } : {}),
      stopGraceMs: e.SANDBOX_STOP_GRACE_S * 1000,
    },
    allowedOrigins: list(e.TRADEFLOW_ALLOWED_ORIGINS) ?? [],
    auth: {
      enabled: e.TRADEFLOW_AUTH === 'on',
      trustedNetworks,
      trustedProxies: cidrs('TRADEFLOW_TRUSTED_PROXIES', e.TRADEFLOW_TRUSTED_PROXIES),
      trustedUser: e.TRADEFLOW_TRUSTED_USER,
      allowedHosts: (list(e.TRADEFLOW_ALLOWED_HOSTS) ?? []).map((h) => h.toLowerCase()),
      rateLimit: {
        windowMs: e.TRADEFLOW_RATE_LIMIT_WINDOW_S * 1000,
        perKey: e.TRADEFLOW_RATE_LIMIT_PER_KEY,
        perIp: e.TRADEFLOW_RATE_LIMIT_PER_IP,
        authFailuresPerIp: e.TRADEFLOW_AUTH_FAILURES_PER_IP,
      },
      maxActiveJobsPerUser: e.TRADEFLOW_MAX_ACTIVE_JOBS_PER_USER,
      signInPerIp: e.TRADEFLOW_SIGN_IN_PER_IP,
      sessionTtlMs: e.TRADEFLOW_SESSION_TTL_H * 3_600_000,
      ...(e.TRADEFLOW_SMTP_URL ? { smtpUrl: e.TRADEFLOW_SMTP_URL } : {}),
      mailFrom: e.TRADEFLOW_MAIL_FROM,
      ...(e.TRADEFLOW_PUBLIC_URL ? { publicUrl: trimSlash(e.TRADEFLOW_PUBLIC_URL) } : {}),
      ...(google
        ? { google: { ...google, issuer: secureUrl('TRADEFLOW_GOOGLE_ISSUER', e.TRADEFLOW_GOOGLE_ISSUER) } }
        : {}),
      ...(github ? { github: { ...github, webUrl: githubWeb, apiUrl: githubApi } } : {}),
    },
    configDir: resolve(e.TRADEFLOW_CONFIG_DIR),
    webhooks: {
      ...(e.TRADEFLOW_WEBHOOK_SECRET ? { secret: e.TRADEFLOW_WEBHOOK_SECRET } : {}),
      allow: parseAllowList(list(e.TRADEFLOW_WEBHOOK_ALLOW) ?? []),
    },
    analysis: {
      timeoutMs: e.ANALYSIS_TIMEOUT_S * 1000,
      concurrency: e.ANALYSIS_CONCURRENCY,
      benchmark: e.ANALYSIS_BENCHMARK.toUpperCase(),
    },
  };
}
