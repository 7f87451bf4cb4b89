import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

/**
 * Metric-name layouts by key. A sample carries only its layout key and the
 * values; the names travel once per connection. Kept on disk next to the
 * buffer because buffered samples may outlive the process that collected them.
 */
export class LayoutStore {
  private readonly file: string;
  private readonly layouts = new Map<string, string[]>();
  private lastNames: string[] | null = null;
  private lastKey = '';

  constructor(dir: string) {
    this.file = path.join(dir, 'layouts.json');
    try {
      for (const [k, v] of Object.entries(JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string[]>)) this.layouts.set(k, v);
    } catch {
      // none yet
    }
  }

  static keyOf(names: string[]): string {
    return createHash('sha256').update(names.join('\n')).digest('base64url').slice(0, 16);
  }

  /** The key of a layout, stored on first sight. */
  keyFor(names: string[]): string {
    // Consecutive snapshots nearly always share a layout: skip hashing then.
    if (this.lastNames && names.length === this.lastNames.length && names.every((n, i) => n === this.lastNames![i])) return this.lastKey;
    const key = LayoutStore.keyOf(names);
    if (!this.layouts.has(key)) {
      this.layouts.set(key, names);
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.layouts)), { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    }
    this.lastNames = names;
    this.lastKey = key;
    return key;
  }

  get(key: string): string[] | undefined {
    return this.layouts.get(key);
  }
}
