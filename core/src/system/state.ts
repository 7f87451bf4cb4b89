import type { Em } from '../db/orm.js';

/** Installation-wide key/value state (setup progress, server secret) in `system_state`. */
export class SystemState {
  async get<T>(em: Em, key: string): Promise<T | undefined> {
    const rows = await em.execute<Array<{ value: T | string }>>('select value from system_state where key = ?', [key]);
    if (!rows[0]) return undefined;
    const v = rows[0].value;
    return (typeof v === 'string' ? JSON.parse(v) : v) as T;
  }

  async set(em: Em, key: string, value: unknown): Promise<void> {
    await em.execute(
      `insert into system_state (key, value, updated_at) values (?, ?::jsonb, now())
       on conflict (key) do update set value = excluded.value, updated_at = now()`,
      [key, JSON.stringify(value)],
    );
  }
}
