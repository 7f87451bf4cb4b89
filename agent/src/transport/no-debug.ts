/** Stands in for `debug` in the bundled agent (socket.io-client's CommonJS build logs through it; the agent has its own log). */
type Debugger = ((...args: unknown[]) => void) & { enabled: boolean; extend: (ns: string) => Debugger };
export default function debug(): Debugger {
  const d = (() => undefined) as unknown as Debugger;
  d.enabled = false;
  d.extend = debug;
  return d;
}
