import { randomUUID } from 'node:crypto';
import type { PluginContext } from '@mpanel/sdk';
import { S, rows, type Row } from '../db.js';
import type { MonitoringSettings } from '../settings.js';

export type Comparison = '>' | '>=' | '<' | '<=';

export function compare(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '>': return value > threshold;
    case '>=': return value >= threshold;
    case '<': return value < threshold;
    case '<=': return value <= threshold;
  }
}

/** Payload of `monitoring.alert.firing` / `monitoring.alert.resolved`. */
export interface AlertEventPayload {
  [key: string]: unknown;
  alertId: string;
  ruleId: string;
  rule: string;
  agentId: string;
  agent: string;
  metric: string;
  comparison: Comparison;
  threshold: number;
  value: number | null;
  severity: string;
  firedAt: string | null;
  resolvedAt: string | null;
}

/**
 * Evaluates alert rules against each agent's newest snapshot, like
 * Prometheus' `for:` — a condition must hold for the rule's duration
 * (pending) before the alert fires; it resolves when the condition no longer
 * holds. Firing and resolving publish typed events and send mail.
 */
export class AlertEngine {
  constructor(private readonly ctx: PluginContext<MonitoringSettings>) {}

  async evaluate(): Promise<void> {
    const em = this.ctx.db.em();
    const rules = await rows(em, `select * from ${S}.alert_rule where enabled`);
    if (!rules.length) return;
    // Newest snapshot per agent, if recent enough to speak for the present.
    const latest = await rows(em,
      `select a.id, a.name, a.tenant_id, a.tenant_path, s.ts, l.names, s.vals
       from ${S}.agent a
       cross join lateral (select ts, layout_id, vals from ${S}.sample where agent_id = a.id order by seq desc limit 1) s
       join ${S}.layout l on l.id = s.layout_id
       where a.revoked_at is null and s.ts > now() - interval '15 minutes'`);
    const open = new Map<string, Row>();
    for (const o of await rows(em, `select * from ${S}.alert where state in ('pending', 'firing')`)) open.set(`${o.rule_id}:${o.agent_id}`, o);
    const now = Date.now();
    for (const rule of rules) {
      for (const a of latest) {
        if (rule.agent_id ? rule.agent_id !== a.id : !String(a.tenant_path).startsWith(rule.tenant_path)) continue;
        const i = (a.names as string[]).indexOf(rule.metric);
        const raw = i >= 0 ? (a.vals as Array<number | null>)[i] : null;
        const value = raw === null || raw === undefined ? null : Number(raw);
        const holds = value !== null && compare(value, rule.comparison, Number(rule.threshold));
        const key = `${rule.id}:${a.id}`;
        const current = open.get(key);
        open.delete(key);
        if (holds) {
          if (!current) {
            const [created] = await rows(em,
              `insert into ${S}.alert (id, rule_id, agent_id, tenant_id, tenant_path, state, severity, value, pending_since)
               values (?, ?, ?, ?, ?, 'pending', ?, ?, now()) on conflict do nothing returning *`,
              [randomUUID(), rule.id, a.id, rule.tenant_id, rule.tenant_path, rule.severity, value]);
            if (created && Number(rule.duration_s) === 0) await this.fire(rule, a, created, value!);
          } else if (current.state === 'pending' && now - new Date(current.pending_since).getTime() >= Number(rule.duration_s) * 1000) {
            await this.fire(rule, a, current, value!);
          } else {
            await rows(em, `update ${S}.alert set value = ? where id = ?`, [value, current.id]);
          }
        } else if (current && value !== null) {
          if (current.state === 'pending') await rows(em, `delete from ${S}.alert where id = ? and state = 'pending'`, [current.id]);
          else await this.resolve(rule, a, current, value);
        }
      }
    }
    // Open alerts whose rule was disabled or no longer matches the agent: resolve quietly.
    for (const o of open.values()) {
      if (!rules.some((r) => r.id === o.rule_id)) await rows(em, `update ${S}.alert set state = 'resolved', resolved_at = now() where id = ? and state <> 'resolved'`, [o.id]);
    }
  }

  private payload(rule: Row, agent: Row, alert: Row, value: number | null): AlertEventPayload {
    return {
      alertId: alert.id, ruleId: rule.id, rule: rule.name, agentId: agent.id, agent: agent.name, metric: rule.metric, comparison: rule.comparison,
      threshold: Number(rule.threshold), value, severity: rule.severity,
      firedAt: alert.fired_at ? new Date(alert.fired_at).toISOString() : null, resolvedAt: alert.resolved_at ? new Date(alert.resolved_at).toISOString() : null,
    };
  }

  private async fire(rule: Row, agent: Row, alert: Row, value: number): Promise<void> {
    const [a] = await rows(this.ctx.db.em(),
      `update ${S}.alert set state = 'firing', fired_at = now(), value = ? where id = ? and state = 'pending' returning *`, [value, alert.id]);
    if (!a) return; // another node got there first
    await this.announce('firing', rule, agent, a, value);
  }

  private async resolve(rule: Row, agent: Row, alert: Row, value: number): Promise<void> {
    const [a] = await rows(this.ctx.db.em(),
      `update ${S}.alert set state = 'resolved', resolved_at = now(), value = ? where id = ? and state = 'firing' returning *`, [value, alert.id]);
    if (!a) return;
    await this.announce('resolved', rule, agent, a, value);
  }

  private async announce(kind: 'firing' | 'resolved', rule: Row, agent: Row, alert: Row, value: number): Promise<void> {
    const p = this.payload(rule, agent, alert, value);
    await this.ctx.events.publish(`monitoring.alert.${kind}`, p, { tenantId: rule.tenant_id, tenantPath: rule.tenant_path, permission: 'monitoring.read' });
    const to = new Set<string>([...(Array.isArray(rule.notify) ? rule.notify : []), this.ctx.settings.get().alertEmail].filter((x): x is string => !!x));
    const subject = `[${rule.severity.toUpperCase()}] ${kind === 'firing' ? 'FIRING' : 'RESOLVED'}: ${rule.name} on ${agent.name}`;
    const text = [
      `${rule.name} is ${kind} on ${agent.name}.`,
      '',
      `Condition: ${rule.metric} ${rule.comparison} ${rule.threshold}${Number(rule.duration_s) ? ` for ${rule.duration_s} s` : ''}`,
      `Current value: ${value}`,
      `Severity: ${rule.severity}`,
      kind === 'firing' ? `Firing since: ${p.firedAt}` : `Resolved at: ${p.resolvedAt} (firing since ${p.firedAt})`,
    ].join('\n');
    for (const address of to) {
      try {
        await this.ctx.mail.send({ to: address, subject, text });
      } catch (err) {
        this.ctx.log.warn({ err, to: address, alert: alert.id }, 'alert mail could not be sent');
      }
    }
  }
}
