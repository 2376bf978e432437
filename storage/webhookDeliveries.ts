import type { Collection, MongoServerError } from 'mongodb';

/** One delivery: a message (id, event, body) to one URL, written once when it is prepared. */
export interface WebhookDeliveryDoc {
  /** The message id (`webhook-id`): the same for every attempt of this delivery. */
  _id: string;
  jobId: string;
  url: string;
  origin: 'job_end' | 'redeliver';
  eventType: string;
  /** The exact bytes every attempt sends (the signature covers them). */
  body: string;
  /** The workflow that delivers it. */
  preparedBy: string;
  /** Its retry policy's attempts: the log reads attempts 1 to this by key (a lost worker's attempt leaves a gap). */
  maxAttempts: number;
  createdAt: Date;
}

/** One attempt, `<delivery>|<attempt>`, written once by it; `<delivery>|accepted` marks the one 2xx. */
export interface WebhookAttemptDoc {
  _id: string;
  deliveryId: string;
  attempt: number;
  at: Date;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** The address connected to (after the policy checked it). */
  address: string | null;
  /** When the next attempt is due; null when none follows (accepted, refused, or the last attempt). */
  nextTryAt: Date | null;
  final: boolean;
}

/** `<job>|<n>`: the job's n-th delivery, so a job's log is read by key, one document at a time. */
export interface WebhookIndexDoc {
  _id: string;
  jobId: string;
  n: number;
  deliveryId: string;
}

export interface WebhookCollections {
  webhookDeliveries: Collection<WebhookDeliveryDoc>;
  webhookAttempts: Collection<WebhookAttemptDoc>;
  webhookIndex: Collection<WebhookIndexDoc>;
}

export interface WebhookDeliveryView extends WebhookDeliveryDoc {
  attempts: WebhookAttemptDoc[];
  status: 'pending' | 'delivered' | 'failed';
  nextTryAt: Date | null;
}

const isDuplicate = (err: unknown) => (err as MongoServerError)?.code === 11000;

/** Deliveries per job and attempts per delivery read at most (a runaway loop stays bounded). */
const MAX_ITEMS = 200;

/**
 * The delivery log. FerretDB v1 has no atomic conditional update, so every fact is a document inserted
 * once under a unique `_id` (a duplicate key says someone else wrote it first), and every read is by
 * `_id` equality, the one lookup FerretDB indexes.
 */
export class WebhookDeliveries {
  constructor(private readonly c: WebhookCollections) {}

  /** Writes the delivery once; answers the stored one (this one, or an earlier writer's). */
  async create(doc: WebhookDeliveryDoc): Promise<WebhookDeliveryDoc> {
    try {
      await this.c.webhookDeliveries.insertOne(doc);
      return doc;
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      const existing = await this.get(doc._id);
      if (!existing) throw err;
      return existing;
    }
  }

  get(deliveryId: string): Promise<WebhookDeliveryDoc | null> {
    return this.c.webhookDeliveries.findOne({ _id: deliveryId });
  }

  /** Adds the delivery to its job's list once: the first free number wins, racing writers take the next. */
  async register(jobId: string, deliveryId: string): Promise<void> {
    for (let n = 1; n <= MAX_ITEMS; n++) {
      const _id = `${jobId}|${n}`;
      const slot = await this.c.webhookIndex.findOne({ _id });
      if (slot) {
        if (slot.deliveryId === deliveryId) return;
        continue;
      }
      try {
        await this.c.webhookIndex.insertOne({ _id, jobId, n, deliveryId });
        return;
      } catch (err) {
        if (!isDuplicate(err)) throw err;
        // Another writer took the number: it may have been this delivery's own earlier attempt.
        const taken = await this.c.webhookIndex.findOne({ _id });
        if (taken?.deliveryId === deliveryId) return;
      }
    }
    throw new Error(`job ${jobId} has more than ${MAX_ITEMS} webhook deliveries`);
  }

  async recordAttempt(doc: Omit<WebhookAttemptDoc, '_id'>): Promise<void> {
    try {
      await this.c.webhookAttempts.insertOne({ _id: `${doc.deliveryId}|${doc.attempt}`, ...doc });
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
  }

  /** Marks the delivery accepted (once); later attempts see it and send nothing. */
  async markAccepted(deliveryId: string, attempt: number, at: Date): Promise<void> {
    try {
      await this.c.webhookAttempts.insertOne({
        _id: `${deliveryId}|accepted`,
        deliveryId,
        attempt,
        at,
        ok: true,
        statusCode: null,
        error: null,
        address: null,
        nextTryAt: null,
        final: true,
      });
    } catch (err) {
      if (!isDuplicate(err)) throw err;
    }
  }

  async accepted(deliveryId: string): Promise<boolean> {
    return (await this.c.webhookAttempts.findOne({ _id: `${deliveryId}|accepted` })) !== null;
  }

  /** Attempts 1 to `maxAttempts`, each read by key (an attempt whose worker died before it wrote is absent). */
  async attempts(deliveryId: string, maxAttempts: number): Promise<WebhookAttemptDoc[]> {
    const numbers = Array.from({ length: Math.min(maxAttempts, MAX_ITEMS) }, (_, i) => i + 1);
    const found = await Promise.all(numbers.map((n) => this.c.webhookAttempts.findOne({ _id: `${deliveryId}|${n}` })));
    return found.filter((a): a is WebhookAttemptDoc => a !== null);
  }

  /** The job's deliveries, oldest first, each with its attempts and where it stands. */
  async forJob(jobId: string): Promise<WebhookDeliveryView[]> {
    const out: WebhookDeliveryView[] = [];
    for (let n = 1; n <= MAX_ITEMS; n++) {
      const slot = await this.c.webhookIndex.findOne({ _id: `${jobId}|${n}` });
      if (!slot) break;
      const delivery = await this.get(slot.deliveryId);
      if (!delivery) continue;
      const [attempts, accepted] = await Promise.all([
        this.attempts(delivery._id, delivery.maxAttempts),
        this.accepted(delivery._id),
      ]);
      const last = attempts.at(-1);
      const status = accepted || attempts.some((a) => a.ok) ? 'delivered' : last?.final ? 'failed' : 'pending';
      out.push({
        ...delivery,
        attempts,
        status,
        nextTryAt: status === 'pending' ? (last?.nextTryAt ?? null) : null,
      });
    }
    return out;
  }
}
