import type { Engine } from '../entities/server.js';

/** What a customer may see of a server: where to connect, never the admin side. */
export interface ServerRow {
  id: string;
  name: string;
  engine: Engine;
  host: string;
  port: number;
  public_host: string | null;
  admin_user: string;
  is_default: boolean;
  created_at: Date | string;
}

export const publicServerView = (s: ServerRow) => ({
  id: s.id, name: s.name, engine: s.engine, host: s.public_host ?? s.host, port: Number(s.port), isDefault: !!s.is_default,
});

export const adminServerView = (s: ServerRow) => ({
  ...publicServerView(s), adminHost: s.host, adminUser: s.admin_user, publicHost: s.public_host, createdAt: iso(s.created_at),
});

export function connectionView(server: { engine: Engine; host: string; port: number }, database: string, user?: string) {
  const scheme = server.engine === 'postgresql' ? 'postgresql' : 'mysql';
  const who = user ? `${user}@` : '';
  return { engine: server.engine, host: server.host, port: server.port, database, uri: `${scheme}://${who}${server.host}:${server.port}/${database}` };
}

export function iso(d: Date | string | null | undefined): string | null {
  return d == null ? null : new Date(d).toISOString();
}

const str = { type: 'string' };
const nullableStr = { type: ['string', 'null'] };
const nullableNum = { type: ['number', 'null'] };

export const serverSchema = {
  type: 'object', required: ['id', 'name', 'engine', 'host', 'port', 'isDefault'],
  properties: { id: str, name: str, engine: str, host: str, port: { type: 'integer' }, isDefault: { type: 'boolean' }, adminHost: str, adminUser: str, publicHost: nullableStr, createdAt: nullableStr },
};

export const connectionSchema = {
  type: 'object', required: ['engine', 'host', 'port', 'database', 'uri'],
  properties: { engine: str, host: str, port: { type: 'integer' }, database: str, uri: str },
};

export const grantSchema = {
  type: 'object', required: ['userId', 'user', 'privilege'],
  properties: { userId: str, user: str, privilege: { enum: ['all', 'read'] } },
};

export const databaseSchema = {
  type: 'object', required: ['id', 'tenantId', 'serverId', 'name', 'status', 'sizeBytes', 'createdAt', 'connection', 'grants'],
  properties: {
    id: str, tenantId: str, serverId: str, name: str, status: str, sizeBytes: nullableNum, sizeCheckedAt: nullableStr, createdAt: str,
    connection: connectionSchema, grants: { type: 'array', items: grantSchema },
  },
};

export const userSchema = {
  type: 'object', required: ['id', 'tenantId', 'serverId', 'name', 'status', 'createdAt', 'grants'],
  properties: {
    id: str, tenantId: str, serverId: str, name: str, status: str, createdAt: str, passwordRotatedAt: nullableStr,
    grants: { type: 'array', items: { type: 'object', required: ['databaseId', 'database', 'privilege'], properties: { databaseId: str, database: str, privilege: str } } },
  },
};

export const credentialsSchema = {
  type: 'object', required: ['user', 'password'],
  properties: { user: str, password: str, connection: connectionSchema },
};
