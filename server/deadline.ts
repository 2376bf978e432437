/**
 * `promise`'s value, or `fallback` once `ms` have passed, whichever comes first. The timer is cleared
 * either way: a status request or a retry leaves nothing pending behind it.
 */
export async function withDeadline<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<F>((resolve) => {
        timer = setTimeout(() => resolve(fallback), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
