/**
 * Start-up (parsing the bundle, the first TLS handshake, the first /proc
 * reads) leaves garbage and a grown young generation behind that V8 would
 * only hand back to the OS after minutes of idling. The agent idles for the
 * rest of its life, so once it is connected it runs one full collection —
 * when the runtime allows it: `--expose-gc` is set in the systemd unit
 * (mpanel-agent.service); without it this does nothing.
 */
let settled = false;

export function settleAfterStartup(delayMs = 1000): void {
  if (settled) return;
  settled = true;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') setTimeout(() => gc(), delayMs).unref();
}
