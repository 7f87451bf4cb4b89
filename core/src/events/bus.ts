import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import { leasePending, markDelivered, eventsById, type DomainEvent } from './outbox.js';

export type EventHandler = (event: DomainEvent) => void | Promise<void>;
/** Called for every delivered event with a subscriber's error; the plugin host blames the owner. */
export type SubscriberErrorHandler = (owner: string, event: DomainEvent, error: unknown) => void;

interface Subscription {
  pattern: string;
  owner: string;
  handler: EventHandler;
}

/**
 * Delivers committed outbox events to in-process subscribers and sinks (the
 * socket.io gateway). Delivery is triggered right after a transaction commits
 * and by a slow poll that picks up anything a crashed process left behind.
 * Events are leased while delivered and marked delivered afterwards, so
 * delivery is at least once (a crash mid-delivery repeats it): subscribers
 * that must not act twice de-duplicate by `event.id`.
 * A subscriber that throws is reported and skipped; it never blocks others.
 */
export class EventBus {
  private subscriptions: Subscription[] = [];
  private sinks: EventHandler[] = [];
  private errorHandlers: SubscriberErrorHandler[] = [];
  private draining: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
  ) {}

  /**
   * Subscribes to a type (`user.created`), a prefix (`user.*`) or everything (`*`).
   * Returns the unsubscribe function.
   */
  subscribe(pattern: string, handler: EventHandler, owner = 'core'): () => void {
    const sub = { pattern, owner, handler };
    this.subscriptions.push(sub);
    return () => {
      this.subscriptions = this.subscriptions.filter((s) => s !== sub);
    };
  }

  addSink(sink: EventHandler): () => void {
    this.sinks.push(sink);
    return () => {
      this.sinks = this.sinks.filter((s) => s !== sink);
    };
  }

  onSubscriberError(handler: SubscriberErrorHandler): void {
    this.errorHandlers.push(handler);
  }

  start(pollMs = 2000): void {
    this.timer = setInterval(() => void this.drain(), pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.draining;
  }

  /** Delivers everything pending; concurrent calls coalesce into one more pass. */
  drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return this.draining;
    }
    this.draining = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            const em = this.orm.em.fork() as never as Parameters<typeof leasePending>[0];
            const events = await leasePending(em, 200);
            if (events.length === 0) break;
            for (const event of events) await this.deliver(event);
            await markDelivered(em, events.map((e) => e.id));
          }
        } while (this.again);
      } catch (error) {
        this.log.error({ err: error }, 'event delivery failed');
      } finally {
        this.draining = null;
      }
    })();
    return this.draining;
  }

  private async deliver(event: DomainEvent): Promise<void> {
    for (const sub of this.subscriptions) {
      if (!matches(sub.pattern, event.type)) continue;
      try {
        await sub.handler(event);
      } catch (error) {
        this.log.warn({ err: error, owner: sub.owner, event: event.type }, 'event subscriber failed');
        for (const h of this.errorHandlers) h(sub.owner, event, error);
      }
    }
    await this.toSinks(event);
    this.onDelivered?.(event);
  }

  /**
   * Called after an event went to the subscribers (once in the whole
   * cluster) and this process's sinks; other processes then feed it to
   * their own sinks (their connected sockets) through `deliverToSinks`.
   */
  onDelivered?: (event: DomainEvent) => void;

  /** Another process delivered event `id`: hand it to this process's sinks (sockets) only. */
  async deliverToSinks(id: number): Promise<void> {
    const events = await eventsById(this.orm.em.fork() as never, [id]);
    for (const event of events) await this.toSinks(event);
  }

  private async toSinks(event: DomainEvent): Promise<void> {
    for (const sink of this.sinks) {
      try {
        await sink(event);
      } catch (error) {
        this.log.warn({ err: error, event: event.type }, 'event sink failed');
      }
    }
  }
}

export function matches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}
