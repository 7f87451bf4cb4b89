import type { Em } from '../db/orm.js';

/** Installation-wide key/value state (setup progress, server secret) in `system_state`. */
export class SystemState {
  async get<T>(em: Em, key: string): Promise<T | undefined> {
    // Read as text: drivers return jsonb strings already parsed, so a stored string would be parsed twice.
    const rows = await em.execute<Array<{ value: string }>>('select value::text as value from system_state where key = ?', [key]);
    if (!rows[0]) return undefined;
    return JSON.parse(rows[0].value) as T;
  }

  async set(em: Em, key: string, value: unknown): Promise<void> {
    await em.execute(
      `insert into system_state (key, value, updated_at) values (?, ?::jsonb, now())
       on conflict (key) do update set value = excluded.value, updated_at = now()`,
      [key, JSON.stringify(value)],
    );
  }
}
