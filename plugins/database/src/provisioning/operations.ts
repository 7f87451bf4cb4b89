import { createHash, randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext, type PluginEntityManager, type PluginRequest, type TenantInfo } from '@mpanel/sdk';
import type { Privilege } from '../entities/database-grant.js';
import type { Engine } from '../entities/server.js';
import type { DatabaseSettings } from '../settings.js';
import type { PlannedStep } from './actions.js';
import type { GrantPeers } from './drivers/index.js';
import { generatePassword } from './passwords.js';
import { checkQuota, lockChain, tenantChain } from './quotas.js';
import { ensurePrefix } from './prefixes.js';
import { validateName } from './names.js';
import { newOperationId, persistPlan, type SagaRunner } from './saga.js';
import { connectionView } from '../routes/views.js';

type Ctx = PluginContext<DatabaseSettings>;

export interface ServerInfo {
  id: string;
  engine: Engine;
  name: string;
  /** Where customers connect. */
  host: string;
  port: number;
}

export interface Planned {
  steps: PlannedStep[];
  secrets?: Map<string, string>;
  /** The response on success (stored sealed for idempotent replays). */
  result: unknown;
}

interface OperationSpec {
  kind: string;
  tenant: TenantInfo;
  /** Runs in the locked reservation transaction: check quotas, reserve rows, return the plan. */
  plan(em: PluginEntityManager, chain: TenantInfo[]): Promise<Planned>;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** The Idempotency-Key header, validated. */
function idempotencyKey(req: PluginRequest<any, any, any>): string | null {
  const raw = (req.raw.req as { headers?: Record<string, string | string[] | undefined> }).headers?.['idempotency-key'];
  if (raw === undefined) return null;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!key || !IDEMPOTENCY_KEY.test(key)) {
    throw new ProblemError('validation-failed', 'Idempotency-Key must be 1–200 printable ASCII characters', { status: 400, extensions: { errors: [{ pointer: '/headers/idempotency-key', message: 'invalid' }] } });
  }
  return key;
}

/**
 * Runs one provisioning operation: idempotency, quota lock, reservation and
 * plan in one short panel transaction; then the saga, outside any transaction.
 */
export async function runOperation(ctx: Ctx, runner: SagaRunner, req: PluginRequest<any, any, any>, spec: OperationSpec): Promise<unknown> {
  const key = idempotencyKey(req);
  const actorId = req.actor.userId ?? req.actor.label;
  const requestHash = createHash('sha256').update(JSON.stringify([spec.kind, req.params, req.body ?? null, req.query ?? null])).digest('hex');
  const chain = await tenantChain(ctx, spec.tenant);
  const opId = newOperationId();
  const s = ctx.db.schema;

  const prepared = await ctx.db.transaction(async (em) => {
    await lockChain(em, chain);
    if (key) {
      const prior = await em.execute<Array<Record<string, any>>>(
        `select id, status, request_hash, result_sealed, error from ${s}.operation where actor_id = ? and idempotency_key = ?`,
        [actorId, key],
      );
      const p = prior[0];
      if (p) {
        if (p.request_hash !== requestHash) {
          throw new ProblemError('idempotency-key-reused', 'This Idempotency-Key was used for a different request', { status: 422 });
        }
        if (p.status === 'succeeded' && p.result_sealed) return { replay: JSON.parse(ctx.secrets.open(p.result_sealed)) as unknown };
        if (p.status === 'running' || p.status === 'failed' || p.status === 'compensation-failed') {
          throw new ProblemError('operation-in-progress', `Operation ${p.id} with this Idempotency-Key is still being settled`, { status: 409, extensions: { operationId: p.id } });
        }
        // Compensated: nothing is left of it, the retry starts afresh.
        await em.execute(`update ${s}.operation set idempotency_key = null where id = ?`, [p.id]);
      }
    }
    const planned = await spec.plan(em, chain);
    await persistPlan(em, s, { id: opId, tenantId: spec.tenant.id, kind: spec.kind, actorId, idempotencyKey: key, requestHash }, planned.steps);
    return { planned };
  });
  if ('replay' in prepared) return prepared.replay;

  await runner.run(opId, spec.kind, prepared.planned.secrets ?? new Map());
  const result = prepared.planned.result;
  if (key) {
    // Kept sealed: a retried request gets the same answer, password included.
    await ctx.db.em().execute(`update ${s}.operation set result_sealed = ? where id = ?`, [ctx.secrets.seal(JSON.stringify(result ?? null)), opId]);
  }
  return result;
}

/** Peers of a user on a database (other users' grants), for PostgreSQL default privileges. */
async function peersOf(em: PluginEntityManager, schema: string, databaseId: string, exceptUserId: string): Promise<GrantPeers> {
  const rows = await em.execute<Array<{ name: string; privilege: Privilege }>>(
    `select u.name, g.privilege from ${schema}.database_grant g join ${schema}.database_user u on u.id = g.user_id
      where g.database_id = ? and g.user_id <> ? order by u.name`,
    [databaseId, exceptUserId],
  );
  return { writers: rows.filter((r) => r.privilege === 'all').map((r) => r.name), readers: rows.filter((r) => r.privilege === 'read').map((r) => r.name) };
}

function nameConflict(kind: string, name: string): ProblemError {
  return new ProblemError('name-taken', `A ${kind} named ${name} already exists on this server`, { status: 409, extensions: { field: kind === 'database' ? 'name' : 'user' } });
}

async function reserveDatabase(em: PluginEntityManager, s: string, id: string, tenantId: string, serverId: string, name: string): Promise<void> {
  const taken = await em.execute<unknown[]>(`select 1 from ${s}.provisioned_database where server_id = ? and name = ?`, [serverId, name]);
  if (taken.length) throw nameConflict('database', name);
  await em.execute(`insert into ${s}.provisioned_database (id, tenant_id, server_id, name, status) values (?, ?, ?, ?, 'provisioning')`, [id, tenantId, serverId, name]);
}

async function reserveUser(em: PluginEntityManager, s: string, id: string, tenantId: string, serverId: string, name: string): Promise<void> {
  const taken = await em.execute<unknown[]>(`select 1 from ${s}.database_user where server_id = ? and name = ?`, [serverId, name]);
  if (taken.length) throw nameConflict('user', name);
  await em.execute(`insert into ${s}.database_user (id, tenant_id, server_id, name, status) values (?, ?, ?, ?, 'provisioning')`, [id, tenantId, serverId, name]);
}

export interface CreateDatabaseInput {
  tenant: TenantInfo;
  server: ServerInfo;
  name: string;
  /** Also create this user with all privileges on the new database. */
  owner?: string;
}

/** Creates a database (and optionally its owner user with a grant), as one saga. */
export function createDatabase(ctx: Ctx, runner: SagaRunner, req: PluginRequest<any, any, any>, input: CreateDatabaseInput): Promise<unknown> {
  const s = ctx.db.schema;
  const { tenant, server } = input;
  return runOperation(ctx, runner, req, {
    kind: 'database.create',
    tenant,
    plan: async (em, chain) => {
      const prefix = await ensurePrefix(em, s, tenant);
      const name = validateName(input.name, { field: 'name', prefix, engine: server.engine, kind: 'database' });
      const owner = input.owner === undefined ? undefined : validateName(input.owner, { field: 'owner', prefix, engine: server.engine, kind: 'user' });
      await checkQuota(em, s, chain, 'databases', 1);
      await checkQuota(em, s, chain, 'sizeMb', 0);
      if (owner) await checkQuota(em, s, chain, 'users', 1);
      const dbId = randomUUID();
      const userId = randomUUID();
      const grantId = randomUUID();
      await reserveDatabase(em, s, dbId, tenant.id, server.id, name);
      const steps: PlannedStep[] = [{ name: `reserve database ${name}`, action: { type: 'panel.setDatabaseStatus', id: dbId, status: 'provisioning' }, undo: { type: 'panel.deleteDatabase', id: dbId }, done: true }];
      const secrets = new Map<string, string>();
      let credentials: unknown;
      if (owner) {
        await reserveUser(em, s, userId, tenant.id, server.id, owner);
        steps.push({ name: `reserve user ${owner}`, action: { type: 'panel.setUserStatus', id: userId, status: 'provisioning' }, undo: { type: 'panel.deleteUser', id: userId }, done: true });
        const password = generatePassword(ctx.settings.get().passwordLength);
        secrets.set('owner', password);
        credentials = { user: owner, password, connection: connectionView(server, name, owner) };
      }
      steps.push({ name: `check that database ${name} is free on ${server.name}`, action: { type: 'server.assertDatabaseAbsent', serverId: server.id, name } });
      if (owner) steps.push({ name: `check that user ${owner} is free on ${server.name}`, action: { type: 'server.assertUserAbsent', serverId: server.id, name: owner } });
      steps.push({ name: `create database ${name} on ${server.name}`, action: { type: 'server.createDatabase', serverId: server.id, name }, undo: { type: 'server.dropDatabase', serverId: server.id, name } });
      if (owner) {
        steps.push({ name: `create user ${owner} on ${server.name}`, action: { type: 'server.createUser', serverId: server.id, name: owner, secret: 'owner' }, undo: { type: 'server.dropUser', serverId: server.id, name: owner } });
        const none = { writers: [], readers: [] };
        steps.push({
          name: `grant all on ${name} to ${owner}`,
          action: { type: 'server.grant', serverId: server.id, user: owner, database: name, privilege: 'all', peers: none },
          undo: { type: 'server.revoke', serverId: server.id, user: owner, database: name, peers: none },
        });
        steps.push({ name: `record grant of ${owner} on ${name}`, action: { type: 'panel.putGrant', id: grantId, tenantId: tenant.id, databaseId: dbId, userId, privilege: 'all' }, undo: { type: 'panel.deleteGrant', databaseId: dbId, userId } });
        steps.push({ name: `mark user ${owner} ready`, action: { type: 'panel.setUserStatus', id: userId, status: 'ready', passwordRotated: true } });
      }
      steps.push({ name: `mark database ${name} ready`, action: { type: 'panel.setDatabaseStatus', id: dbId, status: 'ready' } });
      const database = {
        id: dbId, tenantId: tenant.id, serverId: server.id, name, status: 'ready', sizeBytes: null, sizeCheckedAt: null, createdAt: new Date().toISOString(),
        connection: connectionView(server, name), grants: owner ? [{ userId, user: owner, privilege: 'all' }] : [],
      };
      return { steps, secrets, result: owner ? { database, owner: { id: userId, ...(credentials as object) } } : { database } };
    },
  });
}

export interface CreateUserInput {
  tenant: TenantInfo;
  server: ServerInfo;
  name: string;
}

export function createUser(ctx: Ctx, runner: SagaRunner, req: PluginRequest<any, any, any>, input: CreateUserInput): Promise<unknown> {
  const s = ctx.db.schema;
  const { tenant, server } = input;
  return runOperation(ctx, runner, req, {
    kind: 'user.create',
    tenant,
    plan: async (em, chain) => {
      const prefix = await ensurePrefix(em, s, tenant);
      const name = validateName(input.name, { field: 'name', prefix, engine: server.engine, kind: 'user' });
      await checkQuota(em, s, chain, 'users', 1);
      const id = randomUUID();
      await reserveUser(em, s, id, tenant.id, server.id, name);
      const password = generatePassword(ctx.settings.get().passwordLength);
      const steps: PlannedStep[] = [
        { name: `reserve user ${name}`, action: { type: 'panel.setUserStatus', id, status: 'provisioning' }, undo: { type: 'panel.deleteUser', id }, done: true },
        { name: `check that user ${name} is free on ${server.name}`, action: { type: 'server.assertUserAbsent', serverId: server.id, name } },
        { name: `create user ${name} on ${server.name}`, action: { type: 'server.createUser', serverId: server.id, name, secret: 'password' }, undo: { type: 'server.dropUser', serverId: server.id, name } },
        { name: `mark user ${name} ready`, action: { type: 'panel.setUserStatus', id, status: 'ready', passwordRotated: true } },
      ];
      return {
        steps,
        secrets: new Map([['password', password]]),
        result: { user: { id, tenantId: tenant.id, serverId: server.id, name, status: 'ready', createdAt: new Date().toISOString(), grants: [] }, password, host: server.host, port: server.port },
      };
    },
  });
}

export interface ObjectRef {
  id: string;
  tenantId: string;
  serverId: string;
  name: string;
}

/** Sets a user's access to a database (same tenant, same server) to `privilege`. */
export function setGrant(ctx: Ctx, runner: SagaRunner, req: PluginRequest<any, any, any>, tenant: TenantInfo, db: ObjectRef, user: ObjectRef, privilege: Privilege): Promise<unknown> {
  const s = ctx.db.schema;
  return runOperation(ctx, runner, req, {
    kind: 'grant.set',
    tenant,
    plan: async (em) => {
      await assertReady(em, s, db.id, user.id);
      const prior = await em.execute<Array<{ privilege: Privilege }>>(`select privilege from ${s}.database_grant where database_id = ? and user_id = ?`, [db.id, user.id]);
      const previous = prior[0]?.privilege;
      const peers = await peersOf(em, s, db.id, user.id);
      const grantId = randomUUID();
      await em.execute(
        `insert into ${s}.database_grant (id, tenant_id, database_id, user_id, privilege) values (?, ?, ?, ?, ?)
         on conflict (database_id, user_id) do update set privilege = excluded.privilege`,
        [grantId, tenant.id, db.id, user.id, privilege],
      );
      const steps: PlannedStep[] = [
        {
          name: `record ${privilege} grant of ${user.name} on ${db.name}`,
          action: { type: 'panel.putGrant', id: grantId, tenantId: tenant.id, databaseId: db.id, userId: user.id, privilege },
          undo: previous
            ? { type: 'panel.putGrant', id: grantId, tenantId: tenant.id, databaseId: db.id, userId: user.id, privilege: previous }
            : { type: 'panel.deleteGrant', databaseId: db.id, userId: user.id },
          done: true,
        },
        {
          name: `grant ${privilege} on ${db.name} to ${user.name}`,
          action: { type: 'server.grant', serverId: db.serverId, user: user.name, database: db.name, privilege, peers },
          undo: previous
            ? { type: 'server.grant', serverId: db.serverId, user: user.name, database: db.name, privilege: previous, peers }
            : { type: 'server.revoke', serverId: db.serverId, user: user.name, database: db.name, peers },
        },
      ];
      return { steps, result: { databaseId: db.id, userId: user.id, user: user.name, database: db.name, privilege } };
    },
  });
}

export function revokeGrant(ctx: Ctx, runner: SagaRunner, req: PluginRequest<any, any, any>, tenant: TenantInfo, db: ObjectRef, user: ObjectRef): Promise<unknown> {
  const s = ctx.db.schema;
  return runOperation(ctx, runner, req, {
    kind: 'grant.revoke',
    tenant,
    plan: async (em) => {
      await assertReady(em, s, db.id, user.id);
      const prior = await em.execute<Array<{ id: string; privilege: Privilege }>>(`select id, privilege from ${s}.database_grant where database_id = ? and user_id = ?`, [db.id, user.id]);
      const previous = prior[0];
      if (!previous) throw new ProblemError('not-found', `${user.name} has no access to ${db.name}`, { status: 404 });
      const peers = await peersOf(em, s, db.id, user.id);
      await em.execute(`delete from ${s}.database_grant where id = ?`, [previous.id]);
      const steps: PlannedStep[] = [
        {
          name: `remove grant record of ${user.name} on ${db.name}`,
          action: { type: 'panel.deleteGrant', databaseId: db.id, userId: user.id },
          undo: { type: 'panel.putGrant', id: previous.id, tenantId: tenant.id, databaseId: db.id, userId: user.id, privilege: previous.privilege },
          done: true,
        },
        {
          name: `revoke ${user.name} on ${db.name}`,
          action: { type: 'server.revoke', serverId: db.serverId, user: user.name, database: db.name, peers },
          undo: { type: 'server.grant', serverId: db.serverId, user: user.name, database: db.name, privilege: previous.privilege, peers },
        },
      ];
      return { steps, result: undefined };
    },
  });
}

export function rotatePassword(ctx: Ctx, runner: SagaRunner, req: PluginRequest<any, any, any>, tenant: TenantInfo, user: ObjectRef, server: ServerInfo): Promise<unknown> {
  const s = ctx.db.schema;
  return runOperation(ctx, runner, req, {
    kind: 'user.password',
    tenant,
    plan: async (em) => {
      await assertReady(em, s, null, user.id);
      const password = generatePassword(ctx.settings.get().passwordLength);
      const steps: PlannedStep[] = [
        { name: `note password rotation of ${user.name}`, action: { type: 'panel.setUserStatus', id: user.id, status: 'ready' }, done: true },
        // The old password is unknown (never stored), so there is nothing to undo: this is the only server step.
        { name: `set a new password for ${user.name}`, action: { type: 'server.setPassword', serverId: user.serverId, name: user.name, secret: 'password' } },
        { name: `record password rotation of ${user.name}`, action: { type: 'panel.setUserStatus', id: user.id, status: 'ready', passwordRotated: true } },
      ];
      return { steps, secrets: new Map([['password', password]]), result: { user: user.name, password, host: server.host, port: server.port } };
    },
  });
}

/** Deletes a database: revoke every grant, then DROP (the pivot), then forget it. */
export function deleteDatabase(ctx: Ctx, runner: SagaRunner, req: PluginRequest<any, any, any>, tenant: TenantInfo, db: ObjectRef): Promise<unknown> {
  const s = ctx.db.schema;
  return runOperation(ctx, runner, req, {
    kind: 'database.delete',
    tenant,
    plan: async (em) => {
      await assertReady(em, s, db.id, null);
      await em.execute(`update ${s}.provisioned_database set status = 'deleting' where id = ?`, [db.id]);
      const grants = await em.execute<Array<{ user_id: string; name: string; privilege: Privilege }>>(
        `select g.user_id, u.name, g.privilege from ${s}.database_grant g join ${s}.database_user u on u.id = g.user_id where g.database_id = ? order by u.name`,
        [db.id],
      );
      const steps: PlannedStep[] = [
        { name: `mark database ${db.name} deleting`, action: { type: 'panel.setDatabaseStatus', id: db.id, status: 'deleting' }, undo: { type: 'panel.setDatabaseStatus', id: db.id, status: 'ready' }, done: true },
      ];
      for (const g of grants) {
        const peers = { writers: grants.filter((o) => o.user_id !== g.user_id && o.privilege === 'all').map((o) => o.name), readers: grants.filter((o) => o.user_id !== g.user_id && o.privilege === 'read').map((o) => o.name) };
        steps.push({
          name: `revoke ${g.name} on ${db.name}`,
          action: { type: 'server.revoke', serverId: db.serverId, user: g.name, database: db.name, peers },
          undo: { type: 'server.grant', serverId: db.serverId, user: g.name, database: db.name, privilege: g.privilege, peers },
        });
      }
      steps.push({ name: `drop database ${db.name}`, action: { type: 'server.dropDatabase', serverId: db.serverId, name: db.name }, pivot: true });
      steps.push({ name: `forget database ${db.name}`, action: { type: 'panel.deleteDatabase', id: db.id } });
      return { steps, result: undefined };
    },
  });
}

/** Deletes a user: revoke its grants, drop it (the pivot; its tables pass to the admin), then forget it. */
export function deleteUser(ctx: Ctx, runner: SagaRunner, req: PluginRequest<any, any, any>, tenant: TenantInfo, user: ObjectRef): Promise<unknown> {
  const s = ctx.db.schema;
  return runOperation(ctx, runner, req, {
    kind: 'user.delete',
    tenant,
    plan: async (em) => {
      await assertReady(em, s, null, user.id);
      await em.execute(`update ${s}.database_user set status = 'deleting' where id = ?`, [user.id]);
      const grants = await em.execute<Array<{ database_id: string; name: string; privilege: Privilege }>>(
        `select g.database_id, d.name, g.privilege from ${s}.database_grant g join ${s}.provisioned_database d on d.id = g.database_id where g.user_id = ? order by d.name`,
        [user.id],
      );
      const steps: PlannedStep[] = [
        { name: `mark user ${user.name} deleting`, action: { type: 'panel.setUserStatus', id: user.id, status: 'deleting' }, undo: { type: 'panel.setUserStatus', id: user.id, status: 'ready' }, done: true },
      ];
      for (const g of grants) {
        const peers = await peersOf(em, s, g.database_id, user.id);
        steps.push({
          name: `revoke ${user.name} on ${g.name}`,
          action: { type: 'server.revoke', serverId: user.serverId, user: user.name, database: g.name, peers },
          undo: { type: 'server.grant', serverId: user.serverId, user: user.name, database: g.name, privilege: g.privilege, peers },
        });
      }
      steps.push({ name: `drop user ${user.name}`, action: { type: 'server.dropUser', serverId: user.serverId, name: user.name }, pivot: true });
      steps.push({ name: `forget user ${user.name}`, action: { type: 'panel.deleteUser', id: user.id } });
      return { steps, result: undefined };
    },
  });
}

/** Objects being provisioned or deleted by another operation are off limits until it is settled. */
async function assertReady(em: PluginEntityManager, s: string, databaseId: string | null, userId: string | null): Promise<void> {
  if (databaseId) {
    const r = await em.execute<Array<{ status: string }>>(`select status from ${s}.provisioned_database where id = ? for update`, [databaseId]);
    if (!r[0]) throw new ProblemError('not-found', `No database ${databaseId}`, { status: 404 });
    if (r[0].status !== 'ready') throw new ProblemError('operation-in-progress', `The database is ${r[0].status}; try again when that is finished`, { status: 409 });
  }
  if (userId) {
    const r = await em.execute<Array<{ status: string }>>(`select status from ${s}.database_user where id = ? for update`, [userId]);
    if (!r[0]) throw new ProblemError('not-found', `No user ${userId}`, { status: 404 });
    if (r[0].status !== 'ready') throw new ProblemError('operation-in-progress', `The user is ${r[0].status}; try again when that is finished`, { status: 409 });
  }
}
