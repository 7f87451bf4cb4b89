/**
 * The test seam of the saga. A test sets MPANEL_DATABASE_FAULTS=1 and puts a
 * function under the global symbol below; the runner calls it before every
 * step after the reservation, i.e. between every pair of steps. Throwing
 * fails the operation there (and it is compensated); throwing a
 * SimulatedCrash stops it dead, as if the process died, leaving the
 * operation for the recovery job. Without the variable nothing is called.
 */
export interface FaultPoint {
  /** Operation kind, e.g. `database.create`. */
  operation: string;
  operationId: string;
  /** Index of the step about to run (1 = first step after the reservation). */
  step: number;
  stepName: string;
  /** Number of steps of the plan. */
  steps: number;
}

export type FaultInjector = (point: FaultPoint) => void | Promise<void>;

export const FAULT_INJECTOR = Symbol.for('mpanel.plugin-database.fault-injector');

export class SimulatedCrash extends Error {
  readonly simulatedCrash = true;
}

export function isSimulatedCrash(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { simulatedCrash?: unknown }).simulatedCrash === true;
}

export async function faultPoint(point: FaultPoint): Promise<void> {
  if (process.env.MPANEL_DATABASE_FAULTS !== '1') return;
  const injector = (globalThis as Record<symbol, unknown>)[FAULT_INJECTOR] as FaultInjector | undefined;
  if (injector) await injector(point);
}
