// Timers as the library uses them: limits in milliseconds that may be 0 or huge, deadlines at an
// instant far ahead, timers that do not keep a process alive, and waiting with a deadline.

/** The longest delay setTimeout honours (2^31 - 1 ms); beyond it, it fires at once. */
export const MAX_TIMER = 2_147_483_647;

/**
 * A timer for a limit in milliseconds; none for 0 or Infinity. setTimeout
 * fires at once beyond {@linkcode MAX_TIMER}, so longer limits are clamped to that.
 */
export function later(fn: () => void, ms: number): ReturnType<typeof setTimeout> | undefined {
  return ms > 0 && ms !== Infinity ? setTimeout(fn, Math.min(ms, MAX_TIMER)) : undefined;
}

/**
 * Calls `fn` at `when` (ms since the epoch), however far ahead: a timer that
 * would fire past {@linkcode MAX_TIMER} is re-armed on the way. Returns the
 * function that cancels it.
 */
export function callAt(when: number, fn: () => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = () => {
    const ms = when - Date.now();
    timer = setTimeout(() => (ms > MAX_TIMER ? arm() : fn()), Math.max(0, Math.min(ms, MAX_TIMER)));
  };
  arm();
  return () => clearTimeout(timer);
}

/** Lets a timer not keep the process alive by itself (Node and Bun: unref; Deno: Deno.unrefTimer). */
export function unref(timer: unknown): void {
  const t = timer as { unref?: () => void } | undefined;
  if (typeof t?.unref === "function") t.unref();
  else if (timer !== undefined) (globalThis as { Deno?: { unrefTimer?(id: unknown): void } }).Deno?.unrefTimer?.(timer);
}

/** `p`, or a rejection saying so when it has not settled within `ms`. */
export function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`, or at once when `until` settles first; never keeps the process alive longer. */
export async function waitAtMost(until: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  await Promise.race([until, deadline]);
  clearTimeout(timer);
}
