import type { Logger } from 'pino';
import type { Settings } from '../../config/settings.js';
import { MongoAccounts } from '../../storage/accounts.js';
import type { Database } from '../../storage/db.js';
import { Accounts } from './accounts.js';
import { type AdminBootstrap, ensureAdmin } from './bootstrap.js';

/** Makes sure the admin exists (server/auth/bootstrap.ts) on the real database. */
export function bootstrapAdmin(db: Database, settings: Settings, logger: Logger): Promise<AdminBootstrap> {
  return ensureAdmin(new Accounts(new MongoAccounts(db.collections), { logger }), settings.dataDir);
}

/** What every start says about access: where the admin key is, and, loudly, when anyone may do anything. */
export function announceAccess(settings: Settings, admin: AdminBootstrap, logger: Logger) {
  if (!settings.auth.enabled) {
    const warning = `AUTHENTICATION IS OFF (TRADEFLOW_AUTH=off): every request to ${settings.host}:${settings.port} acts as the admin, with no key. Anything on this machine can read, start and stop every job.`;
    logger.warn(warning);
    console.error(`\n!!! ${warning}\n`);
  }
  if (settings.auth.trustedNetworks.length > 0) {
    logger.warn(
      { user: settings.auth.trustedUser },
      'requests from TRADEFLOW_TRUSTED_NETWORKS act as the trusted-network service user (read and run) without a key',
    );
  }
  // The key itself never goes to a log: only where it is.
  if (admin.created) logger.info({ file: admin.file }, 'first start: created the admin user and its API key');
  else if (admin.fileExists) logger.info({ file: admin.file }, 'the admin API key is in this file');
  else
    logger.info(
      'the admin exists; its first-run key file is gone (an admin creates new keys: POST /admin/users/local/api-keys)',
    );
}
