import { definePlugin } from '@mpanel/sdk';
import { ItemSchema } from './entities/item.js';
import { migrations } from './migrations/index.js';
import { registerItemRoutes } from './routes/items.js';
import type { Settings } from './settings.js';

/**
 * The server entry (package.json `main`). The panel runs the migrations,
 * registers the manifest's permissions, then calls setup(ctx); whatever
 * setup registers through ctx is undone when the plugin is disabled.
 */
export default definePlugin<Settings>({
  migrations,
  entities: [ItemSchema],
  setup(ctx) {
    registerItemRoutes(ctx);
    ctx.log.info({ version: ctx.version }, '{{id}} plugin ready');
  },
});
