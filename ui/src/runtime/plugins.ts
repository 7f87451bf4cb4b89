import { defineComponent, h, markRaw, type Component } from 'vue';
import type { Router, RouteRecordRaw } from 'vue-router';
import type { PluginShell, PluginUiModule } from '@mpanel/sdk';
import { api } from '../api';
import { useSession } from '../stores/session';
import { useToasts } from '../stores/toasts';
import { useContributions } from './registry';
import { onEvent } from './realtime';
import MpErrorBoundary from '../kit/MpErrorBoundary.vue';
import MpErrorState from '../kit/MpErrorState.vue';
import MpEmptyState from '../kit/MpEmptyState.vue';

/** One enabled plugin as /api/v1/ui/contributions describes it. */
export interface Contribution {
  id: string;
  version: string;
  displayName: string;
  ui: string | null;
  menu: Array<{ id: string; label: string; path: string; icon?: string; permission?: string; order?: number }>;
  panels: Array<{ id: string; title: string; path: string; permission?: string }>;
  widgets: Array<{ id: string; title: string; permission?: string; size?: 'small' | 'medium' | 'large' }>;
}

interface Loaded {
  version: string;
  ui: string | null;
  removers: Array<() => void>;
  dispose: (() => void) | null;
  links: HTMLLinkElement[];
  routePaths: Set<string>;
}

let current: PluginRuntime | null = null;
/** The shell's plugin runtime (pages call `sync()` after installing or enabling a plugin). */
export function pluginRuntime(): PluginRuntime | null {
  return current;
}

/** The route every plugin page hangs under (the shell layout). */
export const SHELL_ROUTE = 'shell';

const Forbidden = defineComponent({
  setup: () => () => h(MpEmptyState, { title: 'Not allowed', message: 'You do not hold the permission this page needs.' }),
});

/** Wraps a plugin page: error boundary (a broken panel shows an error card) + permission check. */
function panelComponent(pluginId: string, title: string | undefined, component: Component, permission?: string): Component {
  return markRaw(
    defineComponent({
      name: `PluginPanel_${pluginId.replace(/-/g, '_')}`,
      setup() {
        const session = useSession();
        return () =>
          h('div', { class: 'plugin-panel', 'data-plugin': pluginId }, [
            permission && !session.can(permission)
              ? h(Forbidden)
              : h(MpErrorBoundary, { label: title ?? `The ${pluginId} panel` }, { default: () => h(component as never) }),
          ]);
      },
    }),
  );
}

/** Adds <link rel=stylesheet> for CSS a plugin module lists in `styles` (URLs relative to the module). */
function addStyles(pluginId: string, moduleUrl: string, styles: unknown): HTMLLinkElement[] {
  if (!Array.isArray(styles)) return [];
  return styles.map((s) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = new URL(String(s), new URL(moduleUrl, location.href)).pathname;
    link.dataset.plugin = pluginId;
    document.head.appendChild(link);
    return link;
  });
}

/**
 * Loads enabled plugins' UI modules with `import()` and undoes them again:
 * routes, menu entries and widgets come and go without a reload. The server
 * announces changes over socket.io (`plugin.enabled` / `disabled` / …).
 */
export class PluginRuntime {
  private loaded = new Map<string, Loaded>();
  private syncing: Promise<void> | null = null;
  private again = false;
  private stopEvents: (() => void) | null = null;
  ready: Promise<void> | null = null;

  constructor(private readonly router: Router) {
    current = this;
  }

  /** Starts (once per login): first sync, then follow plugin events. */
  start(): Promise<void> {
    if (!this.ready) {
      this.stopEvents = onEvent('plugin.*', () => void this.sync());
      this.ready = this.sync();
    }
    return this.ready;
  }

  /** On logout: unload everything. */
  stop(): void {
    this.stopEvents?.();
    this.stopEvents = null;
    for (const id of [...this.loaded.keys()]) this.unload(id);
    this.ready = null;
  }

  /** Brings the loaded set in line with the server's; concurrent calls coalesce. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.again = false;
          let list: Contribution[];
          try {
            list = await api.get<Contribution[]>('/api/v1/ui/contributions');
          } catch (e) {
            console.error('[mpanel] could not load plugin contributions', e);
            return;
          }
          const wanted = new Map(list.map((c) => [c.id, c]));
          for (const [id, l] of [...this.loaded]) {
            const c = wanted.get(id);
            if (!c || c.version !== l.version || c.ui !== l.ui) this.unload(id);
          }
          await Promise.all(list.filter((c) => !this.loaded.has(c.id)).map((c) => this.load(c)));
        } while (this.again);
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  private shellFor(pluginId: string, l: Loaded): PluginShell {
    const reg = useContributions();
    const session = useSession();
    const toasts = useToasts();
    const track = (remove: () => void) => {
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        remove();
        l.removers = l.removers.filter((r) => r !== once);
      };
      l.removers.push(once);
      return once;
    };
    return {
      pluginId,
      api,
      can: (p) => session.can(p),
      addRoute: (route) => {
        const name = `plugin:${pluginId}:${route.path}`;
        if (this.router.hasRoute(name)) this.router.removeRoute(name);
        const record: RouteRecordRaw = {
          path: route.path,
          name,
          component: panelComponent(pluginId, route.title, route.component as Component, route.permission),
          meta: { title: route.title, plugin: pluginId },
        };
        const remove = this.router.addRoute(SHELL_ROUTE, record);
        l.routePaths.add(route.path);
        return track(() => {
          l.routePaths.delete(route.path);
          if (this.router.hasRoute(name)) remove();
          this.leaveIfGone(name);
        });
      },
      addMenuItem: (item) =>
        track(reg.addMenu({ ...item, key: `${pluginId}:${item.id}`, pluginId })),
      addWidget: (w) =>
        track(reg.addWidget({ key: `${pluginId}:${w.id}`, pluginId, id: w.id, title: w.title, component: w.component as Component, size: w.size ?? 'small', permission: w.permission })),
      addLoginStep: (step) => track(reg.addLoginStep(step.factor, pluginId, step.component as Component)),
      addAccountSection: (s) =>
        track(reg.addAccountSection({ key: `${pluginId}:${s.id}`, pluginId, id: s.id, title: s.title, component: s.component as Component, order: s.order ?? 100 })),
      toast: { success: (m) => void toasts.success(m), error: (e) => void toasts.error(e) },
      onEvent: (pattern, handler) => track(onEvent(pattern, (e) => handler({ type: e.type, payload: e.payload, tenantId: e.tenantId }))),
    };
  }

  /** If the current page came from a route that is gone, resolve the URL again (→ "not found" or whatever matches now). */
  private leaveIfGone(name: string) {
    const current = this.router.currentRoute.value;
    if (current.matched.some((m) => m.name === name)) void this.router.replace(current.fullPath);
  }

  private async load(c: Contribution): Promise<void> {
    const reg = useContributions();
    const l: Loaded = { version: c.version, ui: c.ui, removers: [], dispose: null, links: [], routePaths: new Set() };
    this.loaded.set(c.id, l);
    reg.plugins = { ...reg.plugins, [c.id]: { id: c.id, version: c.version, displayName: c.displayName, state: c.ui ? 'loading' : 'no-ui', error: null } };
    // Declared menu entries show at once (the module may refine them with addMenuItem under the same id).
    for (const m of c.menu) l.removers.push(reg.addMenu({ ...m, key: `${c.id}:${m.id}`, pluginId: c.id, declared: true }));
    let failure: unknown = null;
    if (c.ui) {
      try {
        const mod = (await import(/* @vite-ignore */ c.ui)) as PluginUiModule & { styles?: unknown };
        if (this.loaded.get(c.id) !== l) return; // unloaded while importing
        if (typeof mod.install !== 'function') throw new Error(`The UI module of ${c.id} exports no install(shell) function`);
        l.links = addStyles(c.id, c.ui, mod.styles);
        const dispose = await mod.install(this.shellFor(c.id, l));
        if (typeof dispose === 'function') l.dispose = dispose;
        reg.plugins = { ...reg.plugins, [c.id]: { ...reg.plugins[c.id]!, state: 'ready' } };
      } catch (e) {
        failure = e;
        console.error(`[mpanel] the UI of plugin ${c.id} failed to load`, e);
        reg.plugins = { ...reg.plugins, [c.id]: { ...reg.plugins[c.id]!, state: 'failed', error: e } };
      }
    }
    if (this.loaded.get(c.id) !== l) return;
    // Declared panels the module did not provide: a page that says why, instead of "not found".
    for (const p of c.panels) {
      if (l.routePaths.has(p.path)) continue;
      const name = `plugin:${c.id}:${p.path}`;
      const err = failure;
      const component = markRaw(
        defineComponent({
          setup: () => () =>
            err
              ? h(MpErrorState, { error: err, title: `${c.displayName}: the panel failed to load` })
              : h(MpEmptyState, { title: p.title, message: `${c.displayName} has no page here.` }),
        }),
      );
      const remove = this.router.addRoute(SHELL_ROUTE, { path: p.path, name, component, meta: { title: p.title, plugin: c.id } });
      l.removers.push(() => {
        if (this.router.hasRoute(name)) remove();
        this.leaveIfGone(name);
      });
    }
    // A page of this plugin may have been asked for before it was loaded.
    const current = this.router.currentRoute.value;
    if (current.name === 'not-found' && this.router.resolve(current.fullPath).name !== 'not-found') void this.router.replace(current.fullPath);
  }

  private unload(id: string): void {
    const l = this.loaded.get(id);
    if (!l) return;
    this.loaded.delete(id);
    try {
      l.dispose?.();
    } catch (e) {
      console.error(`[mpanel] the UI of plugin ${id} failed to dispose`, e);
    }
    for (const r of [...l.removers].reverse()) {
      try {
        r();
      } catch (e) {
        console.error(`[mpanel] removing a contribution of ${id} failed`, e);
      }
    }
    for (const link of l.links) link.remove();
    useContributions().dropPlugin(id);
  }
}
