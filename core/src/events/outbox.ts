import type { EventOptions, PluginEvent } from '@mpanel/sdk';
import type { Em } from '../db/orm.js';

// Events are part of the plugin contract, so their shapes live in the SDK.
/** A domain event as stored in the outbox and delivered to subscribers. */
export type DomainEvent<P = Record<string, unknown>> = PluginEvent<P>;
/** Tenant and permission an event is published for (who may receive it over socket.io). */
export type PublishOptions = EventOptions;

const TYPE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** JSON that PostgreSQL's jsonb accepts: no \u0000, no lone surrogates (user input must not make the outbox write fail). */
function jsonbSafe(value: unknown): string {
  const clean = (s: string) => s.replace(/\u0000/g, '').replace(LONE_SURROGATE, '\uFFFD');
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return clean(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [clean(k), walk(x)]));
    return v;
  };
  return JSON.stringify(walk(value));
}

/** Writes an event to the outbox inside the caller's transaction; it is delivered only after commit. */
export async function writeOutbox(tem: Em, type: string, payload: Record<string, unknown>, options: PublishOptions = {}): Promise<void> {
  if (!TYPE.test(type)) throw new Error(`event type "${type}" must be dotted lowercase (e.g. "user.created")`);
  await tem.execute('insert into outbox_event (type, tenant_id, tenant_path, permission, payload) values (?, ?, ?, ?, ?::jsonb)', [
    type,
    options.tenantId ?? null,
    options.tenantPath ?? null,
    options.permission ?? null,
    jsonbSafe(payload),
  ]);
}

interface OutboxRow {
  id: string;
  type: string;
  tenant_id: string | null;
  tenant_path: string | null;
  permission: string | null;
  payload: Record<string, unknown> | string;
  created_at: Date | string;
}

/**
 * Leases up to `limit` undelivered events (skipping rows another process is
 * leasing) for `leaseSeconds`. They are marked delivered by `markDelivered`
 * after delivery; if this process dies first, the lease runs out and another
 * pass delivers them again — delivery is at least once, so subscribers
 * de-duplicate by event id where it matters.
 */
export async function leasePending(em: Em, limit: number, leaseSeconds = 60): Promise<DomainEvent[]> {
  const rows = await em.execute<OutboxRow[]>(
    `update outbox_event set leased_until = now() + make_interval(secs => ?)
      where id in (select id from outbox_event
                    where delivered_at is null and (leased_until is null or leased_until < now())
                    order by id limit ? for update skip locked)
      returning *`,
    [leaseSeconds, limit],
  );
  return rows.sort((a, b) => Number(a.id) - Number(b.id)).map(rowToEvent);
}

function rowToEvent(r: OutboxRow): DomainEvent {
  return {
    id: Number(r.id),
    type: r.type,
    tenantId: r.tenant_id,
    tenantPath: r.tenant_path,
    permission: r.permission,
    payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

export async function eventsById(em: Em, ids: number[]): Promise<DomainEvent[]> {
  if (ids.length === 0) return [];
  const rows = await em.execute<OutboxRow[]>(`select * from outbox_event where id in (${ids.map(() => '?').join(',')}) order by id`, ids);
  return rows.map(rowToEvent);
}

export async function markDelivered(em: Em, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await em.execute(`update outbox_event set delivered_at = now(), leased_until = null where id in (${ids.map(() => '?').join(',')})`, ids);
}
