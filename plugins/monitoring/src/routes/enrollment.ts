import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { S, rows, idParams, uuidSchema, uuidArray, assertCan, targetTenant } from '../db.js';
import { hashSecret, newSecret } from '../ingest/credentials.js';
import type { PanelKeys } from '../keys/panel-keys.js';
import type { MonitoringSettings } from '../settings.js';
import { tokenView } from './views.js';

/** The panel's address as the caller reached it (for the ready-to-paste enrol command). */
function origin(raw: unknown): string {
  const req = raw as { headers?: Record<string, string | undefined>; protocol?: string };
  const host = req.headers?.['x-forwarded-host'] ?? req.headers?.host ?? 'panel.example';
  const proto = req.headers?.['x-forwarded-proto'] ?? req.protocol ?? 'http';
  return `${proto}://${host}`;
}

/** Enrolment tokens (admin side) and the enrolment exchange (agent side, public). */
export function registerEnrollmentRoutes(ctx: PluginContext<MonitoringSettings>, keys: PanelKeys): void {
  ctx.routes.add<{}, {}, { label?: string; ttlMinutes?: number; tenantId?: string }>({
    method: 'POST',
    path: '/enrollment-tokens',
    summary: 'Create a single-use, expiring enrolment token. The answer holds the token and the command to run on the server — the only time the token is shown.',
    permission: 'monitoring.manage',
    audit: 'monitoring.enrollment-token.create',
    status: 201,
    schema: { body: { type: 'object', properties: { label: { type: 'string', maxLength: 200 }, ttlMinutes: { type: 'integer', minimum: 1, maximum: 43200 }, tenantId: uuidSchema } } },
    handler: async (req) => {
      const tenant = await targetTenant(req, ctx.tenants, req.body.tenantId);
      assertCan(req, 'monitoring.manage', tenant.path);
      const token = newSecret('mpe');
      const ttl = req.body.ttlMinutes ?? ctx.settings.get().enrollmentTokenTtlMinutes;
      const [t] = await rows(req.em,
        `insert into ${S}.enrollment_token (id, tenant_id, tenant_path, token_hash, label, created_by, expires_at)
         values (?, ?, ?, ?, ?, ?, now() + ? * interval '1 minute') returning *`,
        [randomUUID(), tenant.id, tenant.path, hashSecret(token), req.body.label ?? '', req.actor.userId ?? null, ttl]);
      req.audit.target = `monitoring-enrollment-token:${t!.id}`;
      req.audit.tenantId = tenant.id;
      req.audit.tenantPath = tenant.path;
      req.audit.details = { label: t!.label, expiresAt: t!.expires_at };
      return {
        ...tokenView(t!), token, panelKeyFingerprint: keys.fingerprint,
        command: `mpanel-agent enroll --url ${origin(req.raw.req)} --token ${token} --fingerprint ${keys.fingerprint}`,
      };
    },
  });

  ctx.routes.add({
    method: 'GET',
    path: '/enrollment-tokens',
    summary: 'Enrolment tokens of the tenants you can see, newest first (never the token itself).',
    permission: 'monitoring.manage',
    handler: async (req) => {
      const list = await rows(req.em, `select * from ${S}.enrollment_token where tenant_id = any(?::uuid[]) order by created_at desc limit 500`, [uuidArray(req.visibleTenantIds)]);
      return { items: list.map((t) => tokenView(t)) };
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'DELETE',
    path: '/enrollment-tokens/:id',
    summary: 'Revoke an unused enrolment token.',
    permission: 'monitoring.manage',
    audit: 'monitoring.enrollment-token.revoke',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (req) => {
      const [t] = await rows(req.em, `select * from ${S}.enrollment_token where id = ? and tenant_id = any(?::uuid[])`, [req.params.id, uuidArray(req.visibleTenantIds)]);
      if (!t) throw new ProblemError('not-found', `No enrolment token ${req.params.id}`, { status: 404 });
      assertCan(req, 'monitoring.manage', t.tenant_path);
      await rows(req.em, `update ${S}.enrollment_token set revoked_at = coalesce(revoked_at, now()) where id = ? returning id`, [t.id]);
      req.audit.target = `monitoring-enrollment-token:${t.id}`;
      req.audit.tenantId = t.tenant_id;
      req.audit.tenantPath = t.tenant_path;
      return undefined;
    },
  });

  ctx.routes.add<{}, {}, { token: string; hostname: string; platform?: string; arch?: string; agentVersion?: string }>({
    method: 'POST',
    path: '/enroll',
    summary: 'Agent side: exchange an enrolment token for an agent id, a credential and the panel\'s public key (used once; the token is spent).',
    public: true,
    audit: 'monitoring.agent.enroll',
    status: 201,
    schema: {
      body: {
        type: 'object', required: ['token', 'hostname'],
        properties: {
          token: { type: 'string', minLength: 1, maxLength: 200 }, hostname: { type: 'string', minLength: 1, maxLength: 253 },
          platform: { type: 'string', maxLength: 200 }, arch: { type: 'string', maxLength: 50 }, agentVersion: { type: 'string', maxLength: 50 },
        },
      },
    },
    handler: async (req) => {
      const agentId = randomUUID();
      // Spends the token atomically: of two concurrent enrolments with one token, one wins.
      const [t] = await rows(req.em,
        `update ${S}.enrollment_token set used_at = now(), used_by_agent = ?
         where token_hash = ? and used_at is null and revoked_at is null and expires_at > now() returning *`,
        [agentId, hashSecret(req.body.token)]);
      if (!t) {
        req.audit.details = { hostname: req.body.hostname };
        throw new ProblemError('enrollment-token-invalid', 'The enrolment token is unknown, already used, expired or revoked; create a new one in the panel', { status: 401 });
      }
      const credential = newSecret('mpa');
      await rows(req.em,
        `insert into ${S}.agent (id, tenant_id, tenant_path, name, hostname, platform, arch, agent_version, credential_hash, enrollment_token_id)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id`,
        [agentId, t.tenant_id, t.tenant_path, t.label || req.body.hostname, req.body.hostname, req.body.platform ?? '', req.body.arch ?? '', req.body.agentVersion ?? '', hashSecret(credential), t.id]);
      req.audit.target = `monitoring-agent:${agentId}`;
      req.audit.tenantId = t.tenant_id;
      req.audit.tenantPath = t.tenant_path;
      req.audit.details = { hostname: req.body.hostname, token: t.id };
      await req.publish('monitoring.agent.enrolled', { agentId, name: t.label || req.body.hostname }, { tenantId: t.tenant_id, tenantPath: t.tenant_path, permission: 'monitoring.read' });
      return { agentId, credential, panelPublicKey: keys.publicKey, panelKeyFingerprint: keys.fingerprint, namespace: '/p/monitoring/agents', intervalMs: ctx.settings.get().defaultIntervalMs };
    },
  });
}
