import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext, type PluginEntityManager } from '@mpanel/sdk';
import { execute, NameTakenError, type Action, type ActionEnv, type PlannedStep } from './actions.js';
import { DriverPool } from './driver-pool.js';
import { faultPoint, isSimulatedCrash } from './fault-injection.js';

/**
 * Sagas with compensation. An operation's whole plan is written to the panel
 * database (operation + operation_step) inside the reservation transaction;
 * then each step is marked running → done, each write committed on its own,
 * so after a crash the recovery job knows exactly what may have happened.
 *
 * On a failure every step that may have done something — the failed one
 * included, undos are idempotent — is undone newest first, unless a pivot
 * step (an irreversible drop) is already done: then the operation is
 * finished forward instead.
 */

export interface NewOperation {
  id: string;
  tenantId: string;
  kind: string;
  actorId: string | null;
  idempotencyKey: string | null;
  requestHash: string | null;
}

type StepRow = { seq: number; name: string; action: Action; undo: Action | null; pivot: boolean; status: string };

/** Writes the operation and its plan, in the caller's (reservation) transaction. */
export async function persistPlan(em: PluginEntityManager, schema: string, op: NewOperation, steps: PlannedStep[]): Promise<void> {
  await em.execute(
    `insert into ${schema}.operation (id, tenant_id, kind, status, actor_id, idempotency_key, request_hash) values (?, ?, ?, 'running', ?, ?, ?)`,
    [op.id, op.tenantId, op.kind, op.actorId, op.idempotencyKey, op.requestHash],
  );
  for (const [seq, step] of steps.entries()) {
    await em.execute(
      `insert into ${schema}.operation_step (operation_id, seq, name, action, undo, pivot, status) values (?, ?, ?, ?::jsonb, ?::jsonb, ?, ?)`,
      [op.id, seq, step.name, JSON.stringify(step.action), step.undo ? JSON.stringify(step.undo) : null, !!step.pivot, step.done ? 'done' : 'pending'],
    );
  }
}

export function newOperationId(): string {
  return randomUUID();
}

export class SagaRunner {
  constructor(private readonly ctx: PluginContext<any>) {}

  private exec = (sql: string, params: unknown[] = []) => this.ctx.db.em().execute<Array<Record<string, unknown>>>(sql, params);
  private get s() {
    return this.ctx.db.schema;
  }

  private env(pool: DriverPool, secrets: Map<string, string>): ActionEnv {
    return {
      driver: (id) => pool.get(id),
      exec: this.exec,
      schema: this.s,
      secret: (ref) => {
        const v = secrets.get(ref);
        if (v === undefined) throw new Error(`secret ${ref} is not available (only the process that started the operation holds it)`);
        return v;
      },
    };
  }

  private async setStep(opId: string, seq: number, status: string, error: string | null = null): Promise<void> {
    await this.exec(`update ${this.s}.operation_step set status = ?, error = ?, updated_at = now() where operation_id = ? and seq = ?`, [status, error, opId, seq]);
    await this.exec(`update ${this.s}.operation set updated_at = now() where id = ?`, [opId]);
  }

  private async setOperation(opId: string, status: string, error: string | null = null, failedStep: string | null = null): Promise<void> {
    await this.exec(`update ${this.s}.operation set status = ?, error = ?, failed_step = ?, updated_at = now() where id = ?`, [status, error, failedStep, opId]);
  }

  private async steps(opId: string): Promise<StepRow[]> {
    const rows = await this.exec(`select seq, name, action, undo, pivot, status from ${this.s}.operation_step where operation_id = ? order by seq`, [opId]);
    return rows.map((r) => ({
      seq: Number(r.seq), name: String(r.name), pivot: !!r.pivot, status: String(r.status),
      action: (typeof r.action === 'string' ? JSON.parse(r.action) : r.action) as Action,
      undo: r.undo == null ? null : ((typeof r.undo === 'string' ? JSON.parse(r.undo) : r.undo) as Action),
    }));
  }

  /**
   * Runs the pending steps of an operation persisted with persistPlan. Resolves
   * when all are done; otherwise compensates and throws a problem that names
   * the failed step.
   */
  async run(opId: string, kind: string, secrets: Map<string, string>): Promise<void> {
    const pool = new DriverPool(this.ctx);
    const env = this.env(pool, secrets);
    const steps = await this.steps(opId);
    try {
      for (const step of steps) {
        if (step.status !== 'pending') continue;
        try {
          await faultPoint({ operation: kind, operationId: opId, step: step.seq, stepName: step.name, steps: steps.length });
        } catch (err) {
          if (isSimulatedCrash(err)) throw err;
          // Injected between two steps: this step never started.
          return await this.fail(opId, steps, step, err, env, false);
        }
        await this.setStep(opId, step.seq, 'running');
        try {
          await execute(step.action, env);
        } catch (err) {
          await this.setStep(opId, step.seq, 'failed', message(err));
          step.status = 'failed';
          return await this.fail(opId, steps, step, err, env, true);
        }
        await this.setStep(opId, step.seq, 'done');
        step.status = 'done';
      }
      await this.setOperation(opId, 'succeeded');
    } catch (err) {
      if (isSimulatedCrash(err)) {
        throw new ProblemError('operation-interrupted', `Operation ${opId} was interrupted (simulated crash); the recovery job will undo it`, { status: 424, extensions: { operationId: opId } });
      }
      throw err;
    } finally {
      await pool.close();
    }
  }

  private async fail(opId: string, steps: StepRow[], failed: StepRow, err: unknown, env: ActionEnv, started: boolean): Promise<never> {
    const reason = message(err);
    const position = `step ${failed.seq + 1} of ${steps.length} (${failed.name})`;
    if (steps.some((s) => s.pivot && s.status === 'done')) {
      // Past the point of no return: the recovery job finishes it forward.
      await this.setOperation(opId, 'failed', reason, failed.name);
      throw new ProblemError('provisioning-incomplete', `${position} failed: ${reason}. The irreversible part is done; the panel will finish the rest.`, {
        status: 424, extensions: { operationId: opId, failedStep: failed.name },
      });
    }
    const undone = steps.filter((s) => s.status === 'done' && s.undo && s !== failed).length;
    const cleanupError = await this.compensate(opId, steps, env);
    if (cleanupError) {
      await this.setOperation(opId, 'compensation-failed', `${reason}; undo failed: ${cleanupError}`, failed.name);
      throw new ProblemError('provisioning-failed', `${position} failed: ${reason}. Undoing the completed steps failed too (${cleanupError}); the panel retries the clean-up.`, {
        status: 424, extensions: { operationId: opId, failedStep: failed.name },
      });
    }
    await this.setOperation(opId, 'compensated', reason, failed.name);
    if (err instanceof NameTakenError) {
      throw new ProblemError('name-taken', `${err.message}; choose another name`, { status: 409, extensions: { field: err.kind === 'database' ? 'name' : 'user', operationId: opId } });
    }
    throw new ProblemError('provisioning-failed', `${started ? '' : 'Before '}${position} failed: ${reason}. ${undone} completed step(s) were undone; nothing was left behind.`, {
      status: 424, extensions: { operationId: opId, failedStep: failed.name },
    });
  }

  /** Undoes, newest first, every step that may have had an effect. Returns an error message if an undo failed. */
  private async compensate(opId: string, steps: StepRow[], env: ActionEnv): Promise<string | null> {
    for (const step of [...steps].reverse()) {
      if (!['done', 'running', 'failed'].includes(step.status)) continue;
      try {
        if (step.undo) await execute(step.undo, env);
      } catch (err) {
        return `${step.name}: ${message(err)}`;
      }
      await this.setStep(opId, step.seq, 'compensated');
      step.status = 'compensated';
    }
    return null;
  }

  /**
   * Finds operations nobody is working on any more (running but silent for
   * `olderThanSeconds`, or whose undo or finish failed) and settles them:
   * undo, or finish forward past a pivot. Returns how many it settled.
   */
  async recover(olderThanSeconds: number): Promise<{ recovered: string[]; failed: Array<{ id: string; error: string }> }> {
    const stale = await this.exec(
      `select id, updated_at from ${this.s}.operation
        where status in ('running', 'compensation-failed', 'failed') and updated_at <= now() - make_interval(secs => ?)
        order by created_at limit 100`,
      [olderThanSeconds],
    );
    const recovered: string[] = [];
    const failed: Array<{ id: string; error: string }> = [];
    for (const row of stale) {
      const id = String(row.id);
      // Claim it: another node may be recovering at the same moment.
      const claimed = await this.exec(`update ${this.s}.operation set updated_at = now() where id = ? and updated_at = ? returning id`, [id, row.updated_at]);
      if (claimed.length === 0) continue;
      const pool = new DriverPool(this.ctx);
      const env = this.env(pool, new Map());
      try {
        const steps = await this.steps(id);
        if (steps.some((s) => s.pivot && s.status === 'done')) {
          for (const step of steps) {
            if (step.status === 'done') continue;
            await execute(step.action, env);
            await this.setStep(id, step.seq, 'done');
          }
          await this.setOperation(id, 'succeeded');
        } else {
          const cleanupError = await this.compensate(id, steps, env);
          if (cleanupError) throw new Error(cleanupError);
          await this.exec(
            `update ${this.s}.operation set status = 'compensated', error = coalesce(error, 'interrupted; undone by recovery'), updated_at = now() where id = ?`,
            [id],
          );
        }
        recovered.push(id);
        await this.ctx.audit.write({ action: 'database.operation.recover', target: `operation:${id}`, details: { outcome: 'settled' } });
      } catch (err) {
        await this.exec(`update ${this.s}.operation set status = case when status = 'running' then 'compensation-failed' else status end, error = ?, updated_at = now() where id = ?`, [message(err), id]);
        failed.push({ id, error: message(err) });
      } finally {
        await pool.close();
      }
    }
    return { recovered, failed };
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
