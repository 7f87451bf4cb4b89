import fs from 'node:fs';
import { readProc, labelled, type Readings } from './proc.js';

/** Pseudo and virtual file systems that hold no disk space worth watching (df -x would hide most of them too). */
const SKIP = new Set([
  'proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'securityfs', 'pstore', 'debugfs', 'tracefs', 'configfs',
  'fusectl', 'mqueue', 'hugetlbfs', 'bpf', 'binfmt_misc', 'autofs', 'rpc_pipefs', 'nsfs', 'efivarfs', 'selinuxfs', 'tmpfs',
  'ramfs', 'squashfs', 'fuse.lxcfs', 'fuse.gvfsd-fuse', 'nfsd', 'overlay-tmp', 'shm',
]);

/** /proc/mounts escapes spaces and such as octal. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Mount points of real file systems, one per device (bind mounts of the same device are skipped like df does). */
export function mounts(includeTypes: string[] = []): Array<{ device: string; mount: string; type: string }> {
  const seen = new Set<string>();
  const out: Array<{ device: string; mount: string; type: string }> = [];
  for (const line of readProc('mounts').split('\n')) {
    const [device, mount, type] = line.split(' ');
    if (!device || !mount || !type) continue;
    if (SKIP.has(type) && !includeTypes.includes(type)) continue;
    const mp = unescape(mount);
    if (seen.has(mp)) continue;
    seen.add(mp);
    out.push({ device: unescape(device), mount: mp, type });
  }
  return out;
}

/** Size, used and available bytes per mount, computed as df does (used = blocks − free; avail = blocks for unprivileged users). */
export function collectFilesystems(out: Readings, includeTypes: string[] = []): void {
  for (const m of mounts(includeTypes)) {
    let s: fs.StatsFs;
    try {
      s = fs.statfsSync(m.mount);
    } catch {
      continue; // vanished or unreadable mount
    }
    if (!s.blocks) continue;
    const size = s.blocks * s.bsize;
    const used = (s.blocks - s.bfree) * s.bsize;
    const avail = s.bavail * s.bsize;
    out.set(labelled('filesystem_size_bytes', 'mount', m.mount), size);
    out.set(labelled('filesystem_used_bytes', 'mount', m.mount), used);
    out.set(labelled('filesystem_avail_bytes', 'mount', m.mount), avail);
    // df's Use%: used / (used + avail), rounded up.
    out.set(labelled('filesystem_used_percent', 'mount', m.mount), used + avail ? Math.ceil((used / (used + avail)) * 10000) / 100 : 0);
  }
}
