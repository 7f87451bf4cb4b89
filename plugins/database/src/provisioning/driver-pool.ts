import { ProblemError, type PluginContext } from '@mpanel/sdk';
import type { Engine } from '../entities/server.js';
import { openDriver, type EngineDriver, type ServerCredentials } from './drivers/index.js';

/** Loads a registered server's credentials (opening the sealed admin password). */
export async function serverCredentials(ctx: PluginContext<any>, serverId: string): Promise<ServerCredentials> {
  const rows = await ctx.db.em().execute<Array<Record<string, any>>>(
    `select engine, host, port, admin_user, admin_password_sealed from ${ctx.db.schema}.server where id = ?`,
    [serverId],
  );
  const r = rows[0];
  if (!r) throw new ProblemError('not-found', `No database server ${serverId}`, { status: 404 });
  return { engine: r.engine as Engine, host: r.host, port: Number(r.port), adminUser: r.admin_user, adminPassword: ctx.secrets.open(r.admin_password_sealed) };
}

/** One driver per server for the length of an operation. */
export class DriverPool {
  private readonly drivers = new Map<string, EngineDriver>();

  constructor(private readonly ctx: PluginContext<any>) {}

  async get(serverId: string): Promise<EngineDriver> {
    let d = this.drivers.get(serverId);
    if (!d) {
      d = openDriver(await serverCredentials(this.ctx, serverId));
      this.drivers.set(serverId, d);
    }
    return d;
  }

  async close(): Promise<void> {
    const all = [...this.drivers.values()];
    this.drivers.clear();
    await Promise.all(all.map((d) => d.close()));
  }
}
