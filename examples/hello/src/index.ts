import { definePlugin } from '@mpanel/sdk';
import { GreetingSchema } from './entities/greeting.js';
import { migrations } from './migrations/index.js';
import { registerGreetingRoutes, type HelloSettings } from './routes/greetings.js';

export default definePlugin<HelloSettings>({
  migrations,
  entities: [GreetingSchema],
  setup(ctx) {
    registerGreetingRoutes(ctx);
    ctx.log.info({ greeting: ctx.settings.get().greeting }, 'hello plugin ready');
  },
});
