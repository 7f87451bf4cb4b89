import type { Logger } from 'pino';
import type { ClusterBus } from './cluster-bus.js';

type Handler = (payload: unknown, from: string) => void | Promise<void>;

const TOPIC = /^[a-z][a-z0-9.-]{0,99}$/;

/**
 * `ctx.cluster` underneath: plugin messages between panel processes, carried
 * by the ClusterBus as `{ kind: 'plugin' }` messages and handed to the
 * handlers that plugin registered for the topic. A plugin only ever hears its
 * own topics — the plugin id is added by the sender's process, not taken from
 * the plugin.
 */
export class PluginChannels {
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(
    private readonly bus: ClusterBus,
    private readonly log: Logger,
  ) {
    bus.on((message, from) => {
      if (message.kind !== 'plugin') return;
      const set = this.handlers.get(key(message.plugin, message.topic));
      if (!set) return;
      for (const h of [...set]) {
        void Promise.resolve()
          .then(() => h(message.payload, from))
          .catch((err) => this.log.warn({ err, plugin: message.plugin, topic: message.topic }, 'plugin cluster handler failed'));
      }
    });
  }

  get nodeId(): string {
    return this.bus.nodeId;
  }

  get shared(): boolean {
    return this.bus.enabled;
  }

  on(plugin: string, topic: string, handler: Handler): () => void {
    checkTopic(topic);
    const k = key(plugin, topic);
    let set = this.handlers.get(k);
    if (!set) this.handlers.set(k, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (!set.size && this.handlers.get(k) === set) this.handlers.delete(k);
    };
  }

  send(plugin: string, topic: string, payload: unknown): void {
    checkTopic(topic);
    // Fails here, in the plugin's call, rather than silently on the other side (bus.send throws for BigInt and oversize).
    if (payload === undefined || typeof payload === 'function' || typeof payload === 'symbol') throw new TypeError(`cluster message "${topic}" needs a JSON payload`);
    this.bus.send({ kind: 'plugin', plugin, topic, payload });
  }
}

function key(plugin: string, topic: string): string {
  return `${plugin}\u0000${topic}`;
}

function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || !TOPIC.test(topic)) throw new TypeError(`cluster topic "${topic}" must be lowercase letters, digits, dots and dashes (up to 100)`);
}
