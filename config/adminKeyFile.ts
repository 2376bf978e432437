import { join } from 'node:path';

/**
 * Where the first start keeps the admin API key (mode 0600): written by the API's first start
 * (server/auth/bootstrap.ts), read by `npm start`'s banner and by the worker's scheduled catch-up when no
 * TRADEFLOW_SERVICE_API_KEY is set.
 */
export const adminKeyPath = (dataDir: string) => join(dataDir, 'admin-api-key');
