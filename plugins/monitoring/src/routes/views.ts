import { iso, type Row } from '../db.js';

export function agentView(a: Row) {
  return {
    id: a.id, tenantId: a.tenant_id, name: a.name, hostname: a.hostname, platform: a.platform, arch: a.arch, agentVersion: a.agent_version,
    status: a.revoked_at ? 'revoked' : a.online ? 'online' : 'offline',
    intervalMs: a.interval_ms ?? null, connectedAt: iso(a.connected_at), lastSeenAt: iso(a.last_seen_at), lastSeq: Number(a.last_seq),
    droppedSamples: Number(a.dropped), droppedLogLines: Number(a.dropped_log_lines ?? 0), commands: a.commands ?? [], logs: a.logs ?? [], createdAt: iso(a.created_at), revokedAt: iso(a.revoked_at),
  };
}

export function tokenView(t: Row, now = Date.now()) {
  const status = t.revoked_at ? 'revoked' : t.used_at ? 'used' : new Date(t.expires_at).getTime() <= now ? 'expired' : 'active';
  return { id: t.id, tenantId: t.tenant_id, label: t.label, status, createdAt: iso(t.created_at), expiresAt: iso(t.expires_at), usedAt: iso(t.used_at), agentId: t.used_by_agent ?? null, revokedAt: iso(t.revoked_at) };
}

export function ruleView(r: Row) {
  return {
    id: r.id, tenantId: r.tenant_id, name: r.name, metric: r.metric, comparison: r.comparison, threshold: Number(r.threshold), durationSeconds: r.duration_s,
    severity: r.severity, agentId: r.agent_id ?? null, notify: r.notify ?? [], enabled: r.enabled, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
  };
}

export function alertView(a: Row) {
  return {
    id: a.id, ruleId: a.rule_id, rule: a.rule_name ?? null, agentId: a.agent_id, agent: a.agent_name ?? null, state: a.state, severity: a.severity,
    value: a.value === null ? null : Number(a.value), pendingSince: iso(a.pending_since), firedAt: iso(a.fired_at), resolvedAt: iso(a.resolved_at),
  };
}
