import { ApplicationFailure } from '@temporalio/workflow';

/** An activity failure wraps the activity's own error as its cause; that innermost message is what users need. */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

/** The type of the application failure an activity raised (its `jobFailure` type), if any. */
export function failureType(err: unknown): string | undefined {
  let e: unknown = err;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure) return e.type ?? undefined;
    e = e.cause;
  }
  return undefined;
}
