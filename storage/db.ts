import { type Collection, type Db, MongoClient } from 'mongodb';
import type { JobDoc } from '../jobs/records.js';
import type { ApiKeyDoc, UserDoc, UserEmailDoc } from './accounts.js';
import type { FeedEventDoc } from './feedEvents.js';
import type { IdentityDoc, OAuthStateDoc, SessionDoc, SignInCodeDoc } from './signIn.js';
import type {
  BarYearDoc,
  JobEventDoc,
  JobTransitionDoc,
  LedgerIndexDoc,
  LedgerMonthDoc,
  ModelDayDoc,
  ModelLedgerDoc,
  ModelLedgerVersionDoc,
  ModelLockDoc,
  ReasoningRecord,
  TradingDayDoc,
} from './types.js';
import type { WebhookAttemptDoc, WebhookDeliveryDoc, WebhookIndexDoc } from './webhookDeliveries.js';

export interface Collections {
  jobs: Collection<JobDoc>;
  modelDays: Collection<ModelDayDoc>;
  tradingDays: Collection<TradingDayDoc>;
  /** Days taken out of a ledger by a run that replaced them, keyed `day id|replacing job`. */
  tradingDayHistory: Collection<TradingDayDoc & { replacedBy: string; replacedAt: Date }>;
  /** Each model's daily values by month, and the index of its months (storage/ledgerSummaries.ts). */
  ledgerMonths: Collection<LedgerMonthDoc>;
  ledgerIndex: Collection<LedgerIndexDoc>;
  /** Reasoning of a trading day too large for workflow history, keyed by day and attempt. */
  reasoning: Collection<{ _id: string; steps: ReasoningRecord[] }>;
  modelLocks: Collection<ModelLockDoc>;
  modelLedgers: Collection<ModelLedgerDoc>;
  /** The steps of each model's ledger head, one unique `_id` each (storage/modelLedgers.ts). */
  modelLedgerVersions: Collection<ModelLedgerVersionDoc>;
  barYears: Collection<BarYearDoc>;
  jobEvents: Collection<JobEventDoc>;
  jobEventCounters: Collection<{ _id: string; seq: number }>;
  jobEventKeys: Collection<{ _id: string; seq?: number }>;
  /** owner|idempotency key -> the latest job started with it. */
  jobKeys: Collection<{ _id: string; jobId: string }>;
  /** `job|run|end` and `job|run|open`: one end and one opening per run, decided by a unique `_id`. */
  jobTransitions: Collection<JobTransitionDoc>;
  /** Completion webhooks: deliveries, their attempts and each job's list (storage/webhookDeliveries.ts). */
  webhookDeliveries: Collection<WebhookDeliveryDoc>;
  webhookAttempts: Collection<WebhookAttemptDoc>;
  webhookIndex: Collection<WebhookIndexDoc>;
  /** Accounts (storage/accounts.ts): users, the address each took, and API keys by their hash. */
  users: Collection<UserDoc>;
  userEmails: Collection<UserEmailDoc>;
  apiKeys: Collection<ApiKeyDoc>;
  /** Email sign-in codes, their markers, sessions (storage/signIn.ts). */
  signInCodes: Collection<SignInCodeDoc>;
  signInSlots: Collection<{ _id: string; at: Date }>;
  sessions: Collection<SessionDoc>;
  sessionEpochs: Collection<{ _id: string; at: Date }>;
  /** OAuth sign-ins under way, and provider accounts linked to users (storage/signIn.ts). */
  oauthStates: Collection<OAuthStateDoc>;
  identities: Collection<IdentityDoc>;
  /** Live prices and news, written by each symbol's poller and tailed by every API instance. */
  feedEvents: Collection<FeedEventDoc>;
}

export interface Database {
  client: MongoClient;
  db: Db;
  collections: Collections;
  close(): Promise<void>;
}

/** Connects and makes sure every index exists. Unique keys are what keep retried activities idempotent. */
export async function connectDatabase(
  uri: string,
  dbName: string,
  o: {
    /**
     * How long an operation waits for an unreachable database before failing: short for the API, which
     * answers 503 rather than hang, longer for workers, whose activities wait outages out anyway.
     */
    serverSelectionTimeoutMs?: number;
    /** Emit the driver's command events (tests that check which queries a request sends). */
    monitorCommands?: boolean;
  } = {},
): Promise<Database> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: o.serverSelectionTimeoutMs ?? 10_000,
    appName: 'tradeflow',
    ...(o.monitorCommands ? { monitorCommands: true } : {}),
  });
  await client.connect();
  const db = client.db(dbName);
  const collections: Collections = {
    jobs: db.collection<JobDoc>('jobs'),
    modelDays: db.collection<ModelDayDoc>('model_days'),
    tradingDays: db.collection<TradingDayDoc>('trading_days'),
    tradingDayHistory: db.collection<TradingDayDoc & { replacedBy: string; replacedAt: Date }>('trading_day_history'),
    ledgerMonths: db.collection<LedgerMonthDoc>('ledger_months'),
    ledgerIndex: db.collection<LedgerIndexDoc>('ledger_index'),
    reasoning: db.collection<{ _id: string; steps: ReasoningRecord[] }>('trading_day_reasoning'),
    modelLocks: db.collection<ModelLockDoc>('model_locks'),
    modelLedgers: db.collection<ModelLedgerDoc>('model_ledgers'),
    modelLedgerVersions: db.collection<ModelLedgerVersionDoc>('model_ledger_versions'),
    // A new name: documents of the old per-symbol `bars` collection (ranges merged in memory and written
    // back whole, which lost updates under concurrency) are never read again.
    barYears: db.collection<BarYearDoc>('bar_years'),
    jobEvents: db.collection<JobEventDoc>('job_events'),
    jobEventCounters: db.collection<{ _id: string; seq: number }>('job_event_counters'),
    jobEventKeys: db.collection<{ _id: string; seq?: number }>('job_event_keys'),
    jobKeys: db.collection<{ _id: string; jobId: string }>('job_keys'),
    jobTransitions: db.collection<JobTransitionDoc>('job_transitions'),
    webhookDeliveries: db.collection<WebhookDeliveryDoc>('webhook_deliveries'),
    webhookAttempts: db.collection<WebhookAttemptDoc>('webhook_attempts'),
    webhookIndex: db.collection<WebhookIndexDoc>('webhook_index'),
    users: db.collection<UserDoc>('users'),
    userEmails: db.collection<UserEmailDoc>('user_emails'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    signInCodes: db.collection<SignInCodeDoc>('sign_in_codes'),
    signInSlots: db.collection<{ _id: string; at: Date }>('sign_in_slots'),
    sessions: db.collection<SessionDoc>('sessions'),
    sessionEpochs: db.collection<{ _id: string; at: Date }>('session_epochs'),
    oauthStates: db.collection<OAuthStateDoc>('oauth_states'),
    identities: db.collection<IdentityDoc>('identities'),
    feedEvents: db.collection<FeedEventDoc>('feed_events'),
  };
  await ensureIndexes(collections);
  return { client, db, collections, close: () => client.close() };
}

type IndexSpec = { key: Record<string, 1 | -1>; unique?: boolean };

const INDEXES: { [K in keyof Collections]: IndexSpec[] } = {
  jobs: [{ key: { createdAt: -1 } }, { key: { owner: 1, status: 1, createdAt: -1 } }],
  modelDays: [{ key: { jobId: 1, date: 1, model: 1 } }],
  tradingDays: [
    { key: { owner: 1, model: 1, date: 1 }, unique: true },
    { key: { owner: 1, date: 1 } },
    { key: { jobId: 1 } },
  ],
  reasoning: [],
  tradingDayHistory: [],
  ledgerMonths: [],
  ledgerIndex: [],
  modelLocks: [{ key: { jobId: 1 } }],
  modelLedgers: [],
  modelLedgerVersions: [],
  barYears: [],
  jobEvents: [],
  jobEventCounters: [],
  jobEventKeys: [],
  jobKeys: [],
  jobTransitions: [],
  webhookDeliveries: [],
  webhookAttempts: [],
  webhookIndex: [],
  users: [],
  userEmails: [],
  apiKeys: [{ key: { userId: 1 } }],
  signInCodes: [],
  signInSlots: [],
  sessions: [{ key: { userId: 1 } }],
  sessionEpochs: [],
  oauthStates: [],
  identities: [],
  feedEvents: [{ key: { kind: 1, symbol: 1, ts: 1 } }],
};

/**
 * Creates missing indexes one at a time. FerretDB v1 panics on `createIndexes` for an index that
 * already exists and when two connections create one collection at once, so existing ones are skipped
 * and `npm start` runs this once before it starts the worker and the API.
 */
export async function ensureIndexes(c: Collections): Promise<void> {
  for (const [name, specs] of Object.entries(INDEXES) as Array<[keyof Collections, IndexSpec[]]>) {
    const collection = c[name];
    const existing = new Set(
      await collection
        .listIndexes()
        .toArray()
        .then((xs) => xs.map((x) => x.name as string))
        .catch(() => [] as string[]),
    );
    for (const spec of specs) {
      const indexName = Object.entries(spec.key)
        .map(([k, v]) => `${k}_${v}`)
        .join('_');
      if (existing.has(indexName)) continue;
      await collection.createIndex(spec.key, { name: indexName, ...(spec.unique ? { unique: true } : {}) });
    }
  }
}
