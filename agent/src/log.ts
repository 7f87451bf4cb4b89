/** The agent logs plain lines to stderr (journald adds time and unit). */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug?(msg: string): void;
}

export function consoleLogger(level: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'info'): Logger {
  const order = ['debug', 'info', 'warn', 'error', 'silent'];
  const on = (l: string) => order.indexOf(l) >= order.indexOf(level);
  const line = (l: string, msg: string) => process.stderr.write(`${l} ${msg}\n`);
  return {
    debug: (m) => on('debug') && line('debug', m),
    info: (m) => on('info') && line('info', m),
    warn: (m) => on('warn') && line('warn', m),
    error: (m) => on('error') && line('error', m),
  };
}
