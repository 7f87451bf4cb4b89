import { definePlugin } from '@mpanel/sdk';
import { EndpointSchema } from './entities/endpoint.js';
import { DeliverySchema } from './entities/delivery.js';
import { migrations } from './migrations/index.js';
import { registerEndpointRoutes } from './routes/endpoints.js';
import { registerDeliveryRoutes } from './routes/deliveries.js';
import { WebhookDispatcher } from './delivery/dispatcher.js';
import type { WebhooksSettings } from './settings.js';

export type { WebhooksSettings } from './settings.js';

/** How often the queue is polled for due retries (timers wake it earlier in this process). */
const POLL_MS = 1000;

export default definePlugin<WebhooksSettings>({
  migrations,
  entities: [EndpointSchema, DeliverySchema],
  setup(ctx) {
    // Aborted when the plugin is disabled: stops in-flight sends and retry timers.
    // (SDK gap: there is no ctx.signal, so a background job that waits for its own abort stands in.)
    const lifetime = new AbortController();
    ctx.jobs.background('lifetime', (signal) => new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => {
        lifetime.abort();
        resolve();
      }, { once: true });
    }));

    const dispatcher = new WebhookDispatcher(ctx, lifetime.signal);
    ctx.events.subscribe('*', (event) => dispatcher.onEvent(event));
    ctx.jobs.every('deliver-due', POLL_MS, () => dispatcher.kick());
    ctx.jobs.every('purge-log', 60 * 60 * 1000, async () => {
      const removed = await dispatcher.store.purgeFinished(ctx.settings.get().retentionDays);
      if (removed) ctx.log.info({ removed }, 'old webhook deliveries removed');
    });
    registerEndpointRoutes(ctx);
    registerDeliveryRoutes(ctx);
    // Deliveries left pending by a restart or while disabled.
    dispatcher.kick();
    ctx.log.info('webhooks plugin ready');
  },
});
