import type { Hook } from 'tapable';
import { ProblemError, fromForeignProblem } from '../errors/problem.js';

/** Removes a tap again (plugins' taps are removed on disable). */
export type Untap = () => void;

/** Reported when a tap throws, so the owner (a plugin id) can be blamed and contained. */
export type TapErrorHandler = (hookName: string, tapName: string, error: unknown) => void;

interface TapLike {
  name: string;
  fn: (...args: unknown[]) => unknown;
  type: string;
}

/**
 * Named tapable hooks that core and plugins declare and tap by name. Every tap
 * carries a name (the owner: `core` or a plugin id); errors thrown by a tap are
 * reported with that name before they propagate, so the plugin host can mark
 * the right plugin failed.
 */
export class HookRegistry {
  private readonly hooks = new Map<string, { hook: Hook<any, any>; owner: string; description: string }>();
  private errorHandlers: TapErrorHandler[] = [];

  /** Declares a hook. Names are dotted and owned: `auth.login.afterPassword`, `<plugin>.something`. */
  define<H extends Hook<any, any>>(name: string, hook: H, options: { owner?: string; description?: string } = {}): H {
    if (this.hooks.has(name)) throw new Error(`hook "${name}" is already defined`);
    this.hooks.set(name, { hook, owner: options.owner ?? 'core', description: options.description ?? '' });
    return hook;
  }

  /** Removes a hook declared by an owner (used when a plugin is disabled). */
  undefine(name: string): void {
    this.hooks.delete(name);
  }

  get<H extends Hook<any, any>>(name: string): H {
    const entry = this.hooks.get(name);
    if (!entry) throw new Error(`no hook named "${name}"`);
    return entry.hook as H;
  }

  has(name: string): boolean {
    return this.hooks.has(name);
  }

  list(): Array<{ name: string; owner: string; description: string; taps: string[] }> {
    return [...this.hooks.entries()].map(([name, e]) => ({
      name,
      owner: e.owner,
      description: e.description,
      taps: (e.hook.taps as TapLike[]).map((t) => t.name),
    }));
  }

  onTapError(handler: TapErrorHandler): Untap {
    this.errorHandlers.push(handler);
    return () => {
      this.errorHandlers = this.errorHandlers.filter((h) => h !== handler);
    };
  }

  /**
   * Taps a hook by name with a promise-returning (or sync) function and
   * returns a function that removes the tap. Works for sync and async hooks.
   */
  tap(hookName: string, tapName: string, fn: (...args: any[]) => unknown): Untap {
    const hook = this.get(hookName);
    const report = (error: unknown) => {
      // A problem is a tap's deliberate answer (e.g. refusing a login), not a fault to blame on it.
      if (error instanceof ProblemError || fromForeignProblem(error)) return;
      for (const handler of this.errorHandlers) handler(hookName, tapName, error);
    };
    const isAsync = hook.constructor.name.startsWith('Async');
    const wrapped = isAsync
      ? async (...args: unknown[]) => {
          try {
            return await fn(...args);
          } catch (error) {
            report(error);
            throw error;
          }
        }
      : (...args: unknown[]) => {
          try {
            return fn(...args);
          } catch (error) {
            report(error);
            throw error;
          }
        };
    if (isAsync) (hook as any).tapPromise(tapName, wrapped);
    else (hook as any).tap(tapName, wrapped);
    const tapObject = (hook.taps as TapLike[]).find((t) => t.fn === wrapped);
    return () => {
      const h = hook as any;
      h.taps = (h.taps as TapLike[]).filter((t) => t !== tapObject);
      // tapable compiles the call function lazily; reset it so the removed tap is gone.
      h._resetCompilation();
    };
  }
}
