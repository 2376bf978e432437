// The real Hono app over in-memory stores, for route tests that start nothing. Temporal is a client
// that cannot connect (port 1): a route that would reach it answers 503, so a test that means to stay
// off Temporal finds out if it does not.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { createLogger } from '../../config/logger.js';
import { parseModelsConfig } from '../../config/models.js';
import { loadSettings } from '../../config/settings.js';
import { createApp } from '../../server/app.js';
import { newApiKey } from '../../server/auth/keys.js';
import type { OAuthProvider, ProviderName } from '../../server/auth/oauth/provider.js';
import { ADMIN_USER_ID } from '../../server/auth/principal.js';
import type { JobEventHubOptions } from '../../server/eventHub.js';
import { createAppDeps } from '../../server/wire.js';
import { MemoryAccounts, type Role, type Scope } from '../../storage/accounts.js';
import type { JobStore } from '../../storage/jobStore.js';
import { MemorySignIn } from '../../storage/signIn.js';
import { SyntheticSource } from '../../trading/market-data/synthetic.js';
import { MemoryJobEvents, MemoryJobStore, MemoryTradingDays } from './memoryStores.js';

export function unitApp(
  o: {
    hub?: Partial<JobEventHubOptions>;
    allowedOrigins?: string[];
    jobs?: JobStore;
    /** Another Temporal client (one on a server that never answers, say). */
    temporal?: Client;
    /** The database's write probe (a store that cannot write throws). */
    probeWrite?: () => Promise<unknown>;
    /** Settings over the defaults (TRADEFLOW_* of authentication, rate limits, hosts). */
    env?: Record<string, string>;
    logger?: Logger;
    /** The sign-in clock (code and session expiry). */
    now?: () => Date;
    /** OAuth providers to sign in with (none by default). */
    oauthProviders?: ReadonlyMap<ProviderName, OAuthProvider>;
  } = {},
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tradeflow-unit-'));
  const settings = loadSettings({
    TRADEFLOW_DATA_DIR: dataDir,
    MARKET_DATA_SOURCE: 'synthetic',
    ...(o.allowedOrigins ? { TRADEFLOW_ALLOWED_ORIGINS: o.allowedOrigins.join(',') } : {}),
    ...o.env,
  });
  const logger = o.logger ?? createLogger('silent');
  const memoryJobs = new MemoryJobStore();
  const jobs: JobStore = o.jobs ?? memoryJobs;
  const events = new MemoryJobEvents();
  const tradingDays = new MemoryTradingDays();
  const models = parseModelsConfig({ models: [{ id: 'buy-and-hold', strategy: 'buy-and-hold' }] });
  const market = new SyntheticSource(42);
  const temporal =
    o.temporal ?? new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 200 }) });
  const unreachable = () => {
    throw new Error('this unit test reached the database');
  };
  const accountStore = new MemoryAccounts();
  const admin = seedAdmin(accountStore);
  const signInStore = new MemorySignIn();
  /** Every sign-in code "sent", newest last. */
  const mail: Array<{ to: string; code: string }> = [];
  // The real app's builder, on in-memory stores.
  const deps = createAppDeps({
    settings,
    stores: {
      jobs,
      events,
      tradingDays,
      locks: { acquire: unreachable, release: unreachable },
      accounts: accountStore,
      signIn: signInStore,
    },
    temporal,
    temporalAddress: '127.0.0.1:1',
    models,
    market,
    defaultSymbols: () => market.defaultSymbols(),
    closedUniverse: true,
    logger,
    pingDatabase: async () => ({ ok: 1 }),
    probeWrite: o.probeWrite ?? (async () => ({ ok: 1 })),
    mailer: { send: async (to, code) => void mail.push({ to, code }) },
    oauthProviders: o.oauthProviders ?? new Map(),
    ...(o.now ? { now: o.now } : {}),
    hub: { pollMs: 5, endCheckMs: 50, ...o.hub },
  });
  const { accounts, eventHub: hub } = deps;
  const rawApp = createApp(deps);
  return {
    /** The app, every request sent with the admin's key unless the test sends its own `Authorization`. */
    app: withKey(rawApp, admin.key),
    /** The app as is: requests carry only what the test sends. */
    rawApp,
    adminKey: admin.key,
    /** A new user with a key of these scopes (the admin scope needs `role: 'admin'`). */
    addUser: async (email: string, scopes: Scope[] = ['read', 'run'], role: Role = 'user') => {
      const user = await accounts.createUser(email, role);
      const { key, doc } = await accounts.createKey(user._id, { scopes });
      return { id: user._id, key, keyId: doc.keyId, app: withKey(rawApp, key) };
    },
    deps,
    jobs: memoryJobs,
    events,
    tradingDays,
    hub,
    dataDir,
    accounts,
    accountStore,
    signInStore,
    mail,
  };
}

/** The first-run admin and its key, written straight into the in-memory store (unitApp is synchronous). */
function seedAdmin(store: MemoryAccounts) {
  const { key, hash, keyId, prefix } = newApiKey();
  const createdAt = new Date();
  store.usersById.set(ADMIN_USER_ID, { _id: ADMIN_USER_ID, email: 'admin@localhost', role: 'admin', createdAt });
  store.keysByHash.set(hash, {
    _id: hash,
    keyId,
    userId: ADMIN_USER_ID,
    scopes: ['read', 'run', 'admin'],
    prefix,
    createdAt,
  });
  return { key, keyId };
}

type Requester = Pick<ReturnType<typeof createApp>, 'request'>;

/** The app whose `request` sends `Authorization: Bearer <key>` unless the request names its own. */
export function withKey<A extends Requester>(app: A, key: string): A {
  const request: Requester['request'] = (input, init, ...rest) => {
    if (input instanceof Request) {
      if (input.headers.has('authorization')) return app.request(input, init, ...rest);
      const headers = new Headers(input.headers);
      headers.set('authorization', `Bearer ${key}`);
      return app.request(new Request(input, { headers }), init, ...rest);
    }
    const headers = new Headers(init?.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${key}`);
    return app.request(input, { ...init, headers }, ...rest);
  };
  return new Proxy(app, { get: (t, p, r) => (p === 'request' ? request : Reflect.get(t, p, r)) });
}
