import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext, type PluginRequest } from '@mpanel/sdk';
import { S, UUID, rows, iso, type Row } from '../db.js';
import type { PanelKeys } from '../keys/panel-keys.js';
import type { AgentHub } from '../ingest/agent-hub.js';
import type { LiveHub } from '../live/live-hub.js';

/** Output kept per command in the database (the agent caps what it sends too). */
const MAX_STORED_OUTPUT = 256 * 1024;
/** How long a signed request stays valid: a captured one can't be replayed later. */
const REQUEST_VALID_MS = 60_000;

export function commandView(c: Row) {
  return {
    id: c.id, agentId: c.agent_id, name: c.name, status: c.status, exitCode: c.exit_code ?? null, signal: c.signal ?? null,
    timeoutMs: c.timeout_ms, output: c.output ?? '', truncated: !!c.truncated, refusedReason: c.refused_reason ?? null,
    requestedBy: c.requested_by_label ?? '', createdAt: iso(c.created_at), finishedAt: iso(c.finished_at),
  };
}

/**
 * Remote commands: the panel signs a request naming an allowlisted command
 * (never a command line), the agent checks signature and allowlist and
 * streams the output back; every request and its outcome is audited.
 */
export class CommandService {
  constructor(
    private readonly ctx: PluginContext<any>,
    private readonly keys: PanelKeys,
    private readonly hub: AgentHub,
    private readonly live: LiveHub,
  ) {}

  async run(req: PluginRequest<any, any, any>, agent: Row, name: string, timeoutMs: number): Promise<Row> {
    if (agent.revoked_at) throw new ProblemError('agent-revoked', 'The agent is revoked', { status: 409 });
    // `online` is kept by whichever panel process holds the agent's connection.
    if (!agent.online) throw new ProblemError('agent-offline', 'The agent is not connected to the panel', { status: 409 });
    const reported: string[] = Array.isArray(agent.commands) ? agent.commands : [];
    if (!reported.includes(name)) {
      throw new ProblemError('command-not-allowed', `"${name}" is not in the agent's allowlist (${reported.join(', ') || 'empty'}); add it to the agent's configuration`, { status: 422, extensions: { allowed: reported } });
    }
    const id = randomUUID();
    const [row] = await rows(req.em,
      `insert into ${S}.command (id, agent_id, tenant_id, name, timeout_ms, requested_by, requested_by_label, status) values (?, ?, ?, ?, ?, ?, ?, 'sent') returning *`,
      [id, agent.id, agent.tenant_id, name, timeoutMs, req.actor.userId ?? null, req.actor.label]);
    const issuedAt = Date.now();
    const request = { id, agentId: agent.id as string, name, issuedAt, expiresAt: issuedAt + REQUEST_VALID_MS, timeoutMs };
    const signed = { ...request, sig: this.keys.sign(request) };
    // Sent after commit, so the agent's first output always finds the row.
    req.afterCommit(() => this.hub.send(agent.id, 'command', signed));
    return row!;
  }

  private readonly chains = new Map<string, Promise<void>>();

  /** Output, exit or refusal reported by an agent; handled one at a time per agent so output stays in order. */
  onEvent(agentId: string, data: unknown): Promise<void> {
    const next = (this.chains.get(agentId) ?? Promise.resolve())
      .then(() => this.handle(agentId, data))
      .catch((err) => this.ctx.log.warn({ err, agentId }, 'command event failed'));
    this.chains.set(agentId, next);
    void next.then(() => this.chains.get(agentId) === next && this.chains.delete(agentId));
    return next;
  }

  private async handle(agentId: string, data: unknown): Promise<void> {
    const e = data as { type?: string; id?: string; stream?: string; data?: string; exitCode?: number | null; signal?: string | null; timedOut?: boolean; truncated?: boolean; reason?: string };
    if (!e || typeof e.id !== 'string' || !UUID.test(e.id)) return;
    const em = this.ctx.db.em();
    if (e.type === 'output' && typeof e.data === 'string') {
      await rows(em,
        `update ${S}.command set status = 'running', output = left(output || ?, ${MAX_STORED_OUTPUT}), truncated = truncated or length(output) + length(?) > ${MAX_STORED_OUTPUT}
         where id = ? and agent_id = ? and status in ('sent', 'running')`,
        [e.data.replace(/\u0000/g, ''), e.data, e.id, agentId]);
      this.live.commandEvent(agentId, { commandId: e.id, type: 'output', stream: e.stream === 'stderr' ? 'stderr' : 'stdout', data: e.data });
      return;
    }
    let status: string;
    if (e.type === 'exit') status = e.timedOut ? 'timeout' : e.exitCode === 0 ? 'succeeded' : 'failed';
    else if (e.type === 'refused') status = 'refused';
    else return;
    const [c] = await rows(em,
      `update ${S}.command set status = ?, exit_code = ?, signal = ?, truncated = truncated or ?, refused_reason = ?, finished_at = now()
       where id = ? and agent_id = ? and status in ('sent', 'running') returning *`,
      [status, typeof e.exitCode === 'number' ? e.exitCode : null, typeof e.signal === 'string' ? e.signal.slice(0, 20) : null, !!e.truncated,
        status === 'refused' ? String(e.reason ?? 'refused').slice(0, 300) : null, e.id, agentId]);
    if (!c) return;
    const [a] = await rows(em, `select name, tenant_id, tenant_path from ${S}.agent where id = ?`, [agentId]);
    await this.ctx.audit.write({
      action: 'monitoring.command.finish', outcome: status === 'refused' ? 'denied' : status === 'succeeded' ? 'success' : 'failure',
      target: `monitoring-command:${c.id}`, tenantId: a?.tenant_id ?? null, tenantPath: a?.tenant_path ?? null,
      details: { agentId, agent: a?.name, command: c.name, status, exitCode: c.exit_code, reason: c.refused_reason },
    });
    this.live.commandEvent(agentId, { commandId: c.id, type: 'finished', status, exitCode: c.exit_code, reason: c.refused_reason });
    await this.ctx.events.publish('monitoring.command.finished', { id: c.id, agentId, name: c.name, status, exitCode: c.exit_code },
      { tenantId: a?.tenant_id ?? null, tenantPath: a?.tenant_path ?? null, permission: 'monitoring.command' });
  }

  /** Commands whose agent never answered within their timeout (disconnected mid-run). */
  async expireLost(): Promise<void> {
    await rows(this.ctx.db.em(),
      `update ${S}.command set status = 'lost', finished_at = now()
       where status in ('sent', 'running') and created_at < now() - (timeout_ms + 15000) * interval '1 millisecond' returning id`);
  }
}
