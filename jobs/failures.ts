import { ApplicationFailure } from '@temporalio/common';

/**
 * The failure types activities raise, each with whether a retry can fix it. Activities build their
 * failures here and workflows take their non-retryable lists from here, so the two never drift.
 */
export const FAILURE_TYPES = {
  /** No market data for the day or ticker a job needs. */
  MissingMarketData: { retryable: false },
  /** A model id that the models config does not have. */
  UnknownModel: { retryable: false },
  /** A model that cannot work as configured (e.g. the provider rejects its API key). */
  AgentConfigurationError: { retryable: false },
  /** The LLM provider is overloaded or timed out: worth another attempt later. */
  LlmUnavailable: { retryable: true },
  /** The job the activity was asked to run has no record, or names what no longer exists. */
  JobMissing: { retryable: false },
  /** The record a workflow's activity expected is not written yet: the API writes it just after start. */
  JobNotRecorded: { retryable: true },
} as const;

export type FailureType = keyof typeof FAILURE_TYPES;

export function jobFailure(type: FailureType, message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: !FAILURE_TYPES[type].retryable,
    ...(cause ? { cause } : {}),
  });
}

/** Types no retry can fix, for a workflow's retry policy (`nonRetryableErrorTypes`). */
export const NON_RETRYABLE_FAILURES: string[] = (Object.keys(FAILURE_TYPES) as FailureType[]).filter(
  (t) => !FAILURE_TYPES[t].retryable,
);
