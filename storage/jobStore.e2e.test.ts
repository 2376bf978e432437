import { afterAll, beforeAll, inject } from 'vitest';
import { jobStoreContract } from '../test/support/jobStoreContract.js';
import { connectDatabase, type Database } from './db.js';
import { MongoJobStore } from './jobStore.js';

let db: Database;
beforeAll(async () => {
  db = await connectDatabase(inject('mongoUri'), `jobstore_${process.pid}_${Date.now()}`);
});
afterAll(async () => {
  await db.db.dropDatabase();
  await db.close();
});

jobStoreContract('MongoDB protocol (FerretDB)', () => new MongoJobStore(db.collections));
