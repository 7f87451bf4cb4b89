import { randomUUID } from 'node:crypto';
import type { PluginContext } from '@mpanel/sdk';

/** An active endpoint as the dispatcher sees it. */
export interface EndpointRow {
  id: string;
  tenantId: string;
  tenantPath: string;
  events: string[];
}

/** A delivery the worker claimed, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  tenantId: string;
  tenantPath: string;
  eventType: string;
  body: string;
  attempts: number;
  url: string;
  secret: string;
  active: boolean;
}

/** A new delivery to persist before anything is sent. */
export interface NewDelivery {
  endpointId: string;
  tenantId: string;
  eventId: string;
  eventType: string;
  body: string;
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

/**
 * The delivery engine's SQL, outside requests (so: every tenant). Raw SQL on
 * the plugin's own schema; the lease (`locked_until`) and `skip locked` let
 * several panel processes share the queue without sending anything twice.
 */
export class DeliveryStore {
  private readonly s: string;

  constructor(private readonly db: PluginContext['db']) {
    this.s = `"${db.schema}"`;
  }

  private exec<T = Array<Record<string, any>>>(sql: string, params: unknown[] = []): Promise<T> {
    return this.db.em().execute<T>(sql, params);
  }

  /** Path of a tenant, for events that name a tenant but carry no path. Null if it no longer exists. */
  async tenantPath(tenantId: string): Promise<string | null> {
    const rows = await this.exec('select path from public.tenant where id = ?', [tenantId]);
    return (rows[0]?.path as string | undefined) ?? null;
  }

  /**
   * Active endpoints that may receive an event of this tenant: those whose
   * tenant is the event's tenant or an ancestor, and those of the root (a
   * single-segment path). The exact rule is `endpointReceives`.
   */
  async candidateEndpoints(eventTenantPath: string | null): Promise<EndpointRow[]> {
    const rows = eventTenantPath
      ? await this.exec(`select id, tenant_id, tenant_path, events from ${this.s}.endpoint where active and starts_with(?::text, tenant_path)`, [eventTenantPath])
      : await this.exec(`select id, tenant_id, tenant_path, events from ${this.s}.endpoint where active and tenant_path ~ '^/[^/]+/$'`);
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, tenantPath: r.tenant_path, events: json<string[]>(r.events) }));
  }

  /** Persists new pending deliveries, due now. */
  async insert(deliveries: NewDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    const now = new Date();
    const ids = deliveries.map(() => randomUUID());
    const values = deliveries.map(() => "(?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)").join(', ');
    const params = deliveries.flatMap((d, i) => [ids[i], d.endpointId, d.tenantId, d.eventId, d.eventType, d.body, now, now, now]);
    await this.exec(
      `insert into ${this.s}.delivery (id, endpoint_id, tenant_id, event_id, event_type, body, state, attempts, next_attempt_at, created_at, updated_at) values ${values}`,
      params,
    );
    return ids;
  }

  /** Claims up to `limit` due deliveries for `leaseMs` (skipping rows another worker holds). */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const rows = await this.exec(
      `with due as (
         select id from ${this.s}.delivery
         where state = 'pending' and next_attempt_at <= now() and (locked_until is null or locked_until < now())
         order by next_attempt_at limit ? for update skip locked),
       claimed as (
         update ${this.s}.delivery d set locked_until = now() + ? * interval '1 millisecond'
         from due where d.id = due.id
         returning d.id, d.endpoint_id, d.event_type, d.body, d.attempts)
       select c.*, e.tenant_id, e.tenant_path, e.url, e.secret, e.active
       from claimed c join ${this.s}.endpoint e on e.id = c.endpoint_id`,
      [limit, leaseMs],
    );
    return rows.map((r) => ({
      id: r.id, endpointId: r.endpoint_id, tenantId: r.tenant_id, tenantPath: r.tenant_path, eventType: r.event_type, body: r.body,
      attempts: Number(r.attempts), url: r.url, secret: r.secret, active: r.active === true,
    }));
  }

  async markDelivered(id: string, statusCode: number, durationMs: number): Promise<void> {
    await this.exec(
      `update ${this.s}.delivery set state = 'delivered', attempts = attempts + 1, status_code = ?, last_error = null, duration_ms = ?,
         next_attempt_at = null, locked_until = null, delivered_at = now(), updated_at = now() where id = ?`,
      [statusCode, durationMs, id],
    );
  }

  async scheduleRetry(id: string, attempts: number, statusCode: number | null, error: string, durationMs: number | null, delayMs: number): Promise<void> {
    await this.exec(
      `update ${this.s}.delivery set attempts = ?, status_code = ?, last_error = ?, duration_ms = ?,
         next_attempt_at = now() + ? * interval '1 millisecond', locked_until = null, updated_at = now() where id = ?`,
      [attempts, statusCode, error, durationMs, delayMs, id],
    );
  }

  async markFailed(id: string, attempts: number, statusCode: number | null, error: string, durationMs: number | null): Promise<void> {
    await this.exec(
      `update ${this.s}.delivery set state = 'failed', attempts = ?, status_code = ?, last_error = ?, duration_ms = ?,
         next_attempt_at = null, locked_until = null, updated_at = now() where id = ?`,
      [attempts, statusCode, error, durationMs, id],
    );
  }

  /** Gives a claimed delivery back untouched (the attempt was aborted, not failed). */
  async release(id: string): Promise<void> {
    await this.exec(`update ${this.s}.delivery set locked_until = null where id = ?`, [id]);
  }

  /** Removes finished deliveries older than `days`. */
  async purgeFinished(days: number): Promise<number> {
    const rows = await this.exec(
      `delete from ${this.s}.delivery where state in ('delivered', 'failed') and updated_at < now() - ? * interval '1 day' returning id`,
      [days],
    );
    return rows.length;
  }
}
