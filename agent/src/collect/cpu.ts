import { readProc, labelled, type Readings } from './proc.js';

interface Times { busy: number; total: number; iowait: number; steal: number }

function parse(line: string): Times {
  // user nice system idle iowait irq softirq steal guest guest_nice — guest time is already in user/nice.
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total, iowait, steal };
}

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10000) / 100 : 0);

/**
 * CPU usage from /proc/stat: the share of non-idle jiffies between two
 * readings, for all CPUs and per core (like top). The first call only primes.
 */
export class CpuCollector {
  private prev = new Map<string, Times>();

  collect(out: Readings): void {
    const text = readProc('stat');
    for (const line of text.split('\n')) {
      if (!line.startsWith('cpu')) {
        if (line.startsWith('procs_running ')) out.set('processes_running', Number(line.slice(14)));
        else if (line.startsWith('procs_blocked ')) out.set('processes_blocked', Number(line.slice(14)));
        continue;
      }
      const key = line.slice(0, line.indexOf(' '));
      const now = parse(line);
      const before = this.prev.get(key);
      this.prev.set(key, now);
      const dt = before ? now.total - before.total : 0;
      const busy = before ? pct(now.busy - before.busy, dt) : 0;
      if (key === 'cpu') {
        out.set('cpu_usage_percent', busy);
        out.set('cpu_iowait_percent', before ? pct(now.iowait - before.iowait, dt) : 0);
        out.set('cpu_steal_percent', before ? pct(now.steal - before.steal, dt) : 0);
      } else {
        out.set(labelled('cpu_core_usage_percent', 'core', key.slice(3)), busy);
      }
    }
    out.set('cpu_cores', [...this.prev.keys()].length - 1);
  }
}
