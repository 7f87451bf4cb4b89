import type { Privilege } from '../entities/database-grant.js';
import type { ObjectState } from '../entities/provisioned-database.js';
import type { EngineDriver, GrantPeers } from './drivers/index.js';

/**
 * What a saga step does (or undoes), as plain data: the plan is stored in the
 * panel database before anything runs, so the recovery job can undo or finish
 * an operation after a crash from the log alone. Secrets (new passwords) are
 * never stored: `secret` names a value only the running process holds.
 */
export type Action =
  | { type: 'server.assertDatabaseAbsent'; serverId: string; name: string }
  | { type: 'server.assertUserAbsent'; serverId: string; name: string }
  | { type: 'server.createDatabase'; serverId: string; name: string }
  | { type: 'server.dropDatabase'; serverId: string; name: string }
  | { type: 'server.createUser'; serverId: string; name: string; secret: string }
  | { type: 'server.dropUser'; serverId: string; name: string }
  | { type: 'server.setPassword'; serverId: string; name: string; secret: string }
  | { type: 'server.grant'; serverId: string; user: string; database: string; privilege: Privilege; peers: GrantPeers }
  | { type: 'server.revoke'; serverId: string; user: string; database: string; peers: GrantPeers }
  | { type: 'panel.setDatabaseStatus'; id: string; status: ObjectState }
  | { type: 'panel.setUserStatus'; id: string; status: ObjectState; passwordRotated?: boolean }
  | { type: 'panel.deleteDatabase'; id: string }
  | { type: 'panel.deleteUser'; id: string }
  | { type: 'panel.putGrant'; id: string; tenantId: string; databaseId: string; userId: string; privilege: Privilege }
  | { type: 'panel.deleteGrant'; databaseId: string; userId: string };

/** A step of a plan. */
export interface PlannedStep {
  /** Says what it does, for the log and for error messages: `create database acme_shop`. */
  name: string;
  action: Action;
  /** Idempotent inverse; absent for checks and for steps nothing needs undoing. */
  undo?: Action;
  /** Irreversible (e.g. DROP DATABASE): once done, the operation is finished forward, never undone. */
  pivot?: boolean;
  /** Already done inside the reservation transaction (panel rows). */
  done?: boolean;
}

export interface ActionEnv {
  driver(serverId: string): Promise<EngineDriver>;
  /** Raw SQL on the panel database, autocommitted. */
  exec(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  schema: string;
  secret(ref: string): string;
}

/** Refused because the name is in use on the server, by someone outside this panel or another panel. */
export class NameTakenError extends Error {
  constructor(readonly kind: 'database' | 'user', readonly objectName: string) {
    super(`a ${kind} named ${objectName} already exists on the server`);
  }
}

export async function execute(action: Action, env: ActionEnv): Promise<void> {
  const s = env.schema;
  switch (action.type) {
    case 'server.assertDatabaseAbsent':
      if (await (await env.driver(action.serverId)).databaseExists(action.name)) throw new NameTakenError('database', action.name);
      return;
    case 'server.assertUserAbsent':
      if (await (await env.driver(action.serverId)).userExists(action.name)) throw new NameTakenError('user', action.name);
      return;
    case 'server.createDatabase':
      return (await env.driver(action.serverId)).createDatabase(action.name);
    case 'server.dropDatabase':
      return (await env.driver(action.serverId)).dropDatabase(action.name);
    case 'server.createUser':
      return (await env.driver(action.serverId)).createUser(action.name, env.secret(action.secret));
    case 'server.dropUser':
      return (await env.driver(action.serverId)).dropUser(action.name);
    case 'server.setPassword':
      return (await env.driver(action.serverId)).setPassword(action.name, env.secret(action.secret));
    case 'server.grant':
      return (await env.driver(action.serverId)).grant(action.user, action.database, action.privilege, action.peers);
    case 'server.revoke':
      return (await env.driver(action.serverId)).revoke(action.user, action.database, action.peers);
    case 'panel.setDatabaseStatus':
      await env.exec(`update ${s}.provisioned_database set status = ? where id = ?`, [action.status, action.id]);
      return;
    case 'panel.setUserStatus':
      await env.exec(
        `update ${s}.database_user set status = ?, password_rotated_at = case when ? then now() else password_rotated_at end where id = ?`,
        [action.status, !!action.passwordRotated, action.id],
      );
      return;
    case 'panel.deleteDatabase':
      await env.exec(`delete from ${s}.provisioned_database where id = ?`, [action.id]);
      return;
    case 'panel.deleteUser':
      await env.exec(`delete from ${s}.database_user where id = ?`, [action.id]);
      return;
    case 'panel.putGrant':
      await env.exec(
        `insert into ${s}.database_grant (id, tenant_id, database_id, user_id, privilege) values (?, ?, ?, ?, ?)
         on conflict (database_id, user_id) do update set privilege = excluded.privilege`,
        [action.id, action.tenantId, action.databaseId, action.userId, action.privilege],
      );
      return;
    case 'panel.deleteGrant':
      await env.exec(`delete from ${s}.database_grant where database_id = ? and user_id = ?`, [action.databaseId, action.userId]);
      return;
  }
}
