import { definePlugin } from '@mpanel/sdk';
import { entities } from './entities/index.js';
import { migrations } from './migrations/index.js';
import { SagaRunner } from './provisioning/saga.js';
import { refreshSizes } from './provisioning/sizes.js';
import { registerDatabaseRoutes } from './routes/databases.js';
import { registerGrantRoutes } from './routes/grants.js';
import { registerOperationRoutes } from './routes/operations.js';
import { registerServerRoutes } from './routes/servers.js';
import { registerTenantRoutes } from './routes/tenants.js';
import { registerUserRoutes } from './routes/users.js';
import type { DatabaseSettings } from './settings.js';

export { FAULT_INJECTOR, SimulatedCrash, type FaultInjector, type FaultPoint } from './provisioning/fault-injection.js';

/**
 * Databases for customers. Disabling or uninstalling the plugin (even with
 * purge) never touches the database servers: provisioned data is only ever
 * dropped by an explicit, confirmed delete.
 */
export default definePlugin<DatabaseSettings>({
  migrations,
  entities,
  setup(ctx) {
    if (!ctx.capabilities.includes('db:provision')) throw new Error('the database plugin needs the capability "db:provision"');
    const runner = new SagaRunner(ctx);
    registerServerRoutes(ctx);
    registerTenantRoutes(ctx);
    registerDatabaseRoutes(ctx, runner);
    registerUserRoutes(ctx, runner);
    registerGrantRoutes(ctx, runner);
    registerOperationRoutes(ctx, runner);

    // Operations silent for longer than recoverAfterSeconds were interrupted (a crash, a lost node): settle them.
    ctx.jobs.every('recover-operations', 60_000, async () => {
      const { recovered, failed } = await runner.recover(ctx.settings.get().recoverAfterSeconds);
      if (recovered.length || failed.length) ctx.log.info({ recovered, failed }, 'settled interrupted database operations');
    });
    let lastSizes = 0;
    ctx.jobs.every('measure-sizes', 60_000, async () => {
      if (Date.now() - lastSizes < ctx.settings.get().sizeRefreshMinutes * 60_000) return;
      lastSizes = Date.now();
      await refreshSizes(ctx);
    });
  },
});
