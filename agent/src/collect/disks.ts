import { readProc, labelled, type Readings } from './proc.js';

interface Counters { reads: number; readSectors: number; writes: number; writeSectors: number; ioMs: number; at: number }

/** Partitions and virtual devices double-count their parent disk's I/O. */
const SKIP = /^(loop|ram|zram|dm-|md|sr|fd)\d*|^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+)\d+$|^nvme\d+n\d+p\d+$|^mmcblk\d+p\d+$/;

/**
 * Disk I/O per whole device from /proc/diskstats, as rates since the previous
 * reading (sectors are 512 bytes there whatever the device's block size).
 */
export class DiskCollector {
  private prev = new Map<string, Counters>();

  collect(out: Readings, now = Date.now()): void {
    const next = new Map<string, Counters>();
    for (const line of readProc('diskstats').split('\n')) {
      const f = line.trim().split(/\s+/);
      const name = f[2];
      if (!name || SKIP.test(name)) continue;
      const c: Counters = { reads: +f[3]!, readSectors: +f[5]!, writes: +f[7]!, writeSectors: +f[9]!, ioMs: +f[12]!, at: now };
      next.set(name, c);
      const p = this.prev.get(name);
      const dt = p ? (now - p.at) / 1000 : 0;
      const rate = (a: number, b: number) => (dt > 0 && a >= b ? Math.round(((a - b) / dt) * 100) / 100 : 0);
      out.set(labelled('disk_read_bytes_per_second', 'device', name), p ? rate(c.readSectors * 512, p.readSectors * 512) : 0);
      out.set(labelled('disk_write_bytes_per_second', 'device', name), p ? rate(c.writeSectors * 512, p.writeSectors * 512) : 0);
      out.set(labelled('disk_reads_per_second', 'device', name), p ? rate(c.reads, p.reads) : 0);
      out.set(labelled('disk_writes_per_second', 'device', name), p ? rate(c.writes, p.writes) : 0);
      out.set(labelled('disk_busy_percent', 'device', name), p && dt > 0 ? Math.min(100, Math.round(((c.ioMs - p.ioMs) / (dt * 1000)) * 10000) / 100) : 0);
    }
    this.prev = next;
  }
}
