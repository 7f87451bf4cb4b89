/**
 * Polls `fn` every 25 ms until it returns something other than undefined or
 * false, and returns that; throws after `ms` naming `what`. For effects that
 * arrive asynchronously (another process, a socket) — never a timing assertion.
 */
export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
