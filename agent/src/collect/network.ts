import { readProc, labelled, type Readings } from './proc.js';

interface Counters { rxBytes: number; rxPackets: number; rxErrors: number; txBytes: number; txPackets: number; txErrors: number; at: number }

/** Network traffic per interface from /proc/net/dev, as rates since the previous reading. */
export class NetworkCollector {
  private prev = new Map<string, Counters>();

  constructor(private readonly skipLoopback = true) {}

  collect(out: Readings, now = Date.now()): void {
    const next = new Map<string, Counters>();
    const lines = readProc('net/dev').split('\n').slice(2);
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      if (this.skipLoopback && name === 'lo') continue;
      const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
      const c: Counters = { rxBytes: f[0]!, rxPackets: f[1]!, rxErrors: f[2]!, txBytes: f[8]!, txPackets: f[9]!, txErrors: f[10]!, at: now };
      next.set(name, c);
      const p = this.prev.get(name);
      const dt = p ? (now - p.at) / 1000 : 0;
      // Counters reset when an interface is re-created: report 0 rather than a negative rate.
      const rate = (a: number, b: number) => (p && dt > 0 && a >= b ? Math.round(((a - b) / dt) * 100) / 100 : 0);
      out.set(labelled('network_receive_bytes_per_second', 'interface', name), rate(c.rxBytes, p?.rxBytes ?? 0));
      out.set(labelled('network_transmit_bytes_per_second', 'interface', name), rate(c.txBytes, p?.txBytes ?? 0));
      out.set(labelled('network_receive_packets_per_second', 'interface', name), rate(c.rxPackets, p?.rxPackets ?? 0));
      out.set(labelled('network_transmit_packets_per_second', 'interface', name), rate(c.txPackets, p?.txPackets ?? 0));
      out.set(labelled('network_errors_per_second', 'interface', name), rate(c.rxErrors + c.txErrors, (p?.rxErrors ?? 0) + (p?.txErrors ?? 0)));
    }
    this.prev = next;
  }
}
