import type { Component } from 'vue';
import type { PluginShell, PluginUiModule } from '@mpanel/sdk';
import { api } from '../api';
import { useToasts } from '../stores/toasts';
import { useContributions } from './registry';

export interface Branding {
  productName?: string;
  logoUrl?: string;
  primaryColor?: string;
  accentColor?: string;
}

/** GET /api/v1/ui/public: what the shell needs before anyone is logged in. */
export interface PublicUi {
  branding: Branding;
  /** UI modules of plugins that take part in login (second factors), served without a session. */
  loginModules: Array<{ id: string; version: string; ui: string }>;
}

const noop = () => () => undefined;
let disposers: Array<() => void> = [];
let loadedFor: string | null = null;

/**
 * Before login only the login steps of plugins matter: their modules get a
 * shell whose other registrations are inert. After login the full runtime
 * installs them properly and these are disposed.
 */
export async function loadLoginSteps(list: PublicUi['loginModules']): Promise<void> {
  const key = JSON.stringify(list);
  if (loadedFor === key) return;
  disposeLoginSteps();
  loadedFor = key;
  const reg = useContributions();
  const toasts = useToasts();
  await Promise.all(
    list.map(async (m) => {
      try {
        const mod = (await import(/* @vite-ignore */ m.ui)) as PluginUiModule;
        const removers: Array<() => void> = [];
        const shell: PluginShell = {
          pluginId: m.id,
          api,
          can: () => false,
          addRoute: noop,
          addMenuItem: noop,
          addWidget: noop,
          addAccountSection: noop,
          addLoginStep: (step) => {
            const r = reg.addLoginStep(step.factor, m.id, step.component as Component);
            removers.push(r);
            return r;
          },
          toast: { success: (s) => void toasts.success(s), error: (e) => void toasts.error(e) },
          onEvent: noop,
        };
        const dispose = await mod.install(shell);
        disposers.push(() => {
          try {
            if (typeof dispose === 'function') dispose();
          } finally {
            for (const r of removers) r();
          }
        });
      } catch (e) {
        console.error(`[mpanel] login UI of ${m.id} failed to load`, e);
      }
    }),
  );
}

export function disposeLoginSteps(): void {
  for (const d of disposers) {
    try {
      d();
    } catch (e) {
      console.error('[mpanel] disposing a login step failed', e);
    }
  }
  disposers = [];
  loadedFor = null;
}
