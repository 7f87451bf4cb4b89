import type { PluginContext } from '@mpanel/sdk';
import { DriverPool } from './driver-pool.js';

/** Measures every ready database (for the list and the size quota). */
export async function refreshSizes(ctx: PluginContext<any>): Promise<void> {
  const rows = await ctx.db.em().execute<Array<{ id: string; server_id: string; name: string }>>(
    `select id, server_id, name from ${ctx.db.schema}.provisioned_database where status = 'ready' order by server_id`,
  );
  const pool = new DriverPool(ctx);
  try {
    for (const r of rows) {
      if (ctx.signal.aborted) return;
      try {
        const size = await (await pool.get(r.server_id)).databaseSize(r.name);
        await ctx.db.em().execute(`update ${ctx.db.schema}.provisioned_database set size_bytes = ?, size_checked_at = now() where id = ?`, [size, r.id]);
      } catch (err) {
        ctx.log.warn({ err, database: r.name }, 'could not measure a database');
      }
    }
  } finally {
    await pool.close();
  }
}
