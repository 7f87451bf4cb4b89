import { defineStore } from 'pinia';
import { markRaw, ref, type Component } from 'vue';

export interface MenuEntry {
  key: string;
  pluginId: string;
  id: string;
  label: string;
  path: string;
  icon?: string;
  order?: number;
  permission?: string;
  /** Declared in the manifest (shown before / without the UI module). */
  declared?: boolean;
}
export interface WidgetEntry {
  key: string;
  pluginId: string;
  id: string;
  title: string;
  component: Component;
  size: 'small' | 'medium' | 'large';
  permission?: string;
}
export interface AccountSection {
  key: string;
  pluginId: string;
  id: string;
  title: string;
  component: Component;
  order: number;
}
export interface LoadedPlugin {
  id: string;
  version: string;
  displayName: string;
  state: 'loading' | 'ready' | 'failed' | 'no-ui';
  error: unknown;
}

/** What plugins contributed to the shell: menu entries, widgets, account sections, login steps. */
export const useContributions = defineStore('contributions', () => {
  const menu = ref<MenuEntry[]>([]);
  const widgets = ref<WidgetEntry[]>([]);
  const accountSections = ref<AccountSection[]>([]);
  const loginSteps = ref<Record<string, { pluginId: string; component: Component }>>({});
  const plugins = ref<Record<string, LoadedPlugin>>({});

  function addMenu(entry: MenuEntry): () => void {
    menu.value = [...menu.value.filter((m) => m.key !== entry.key), entry];
    return () => {
      menu.value = menu.value.filter((m) => m !== entry && !(m.key === entry.key && !m.declared));
    };
  }
  function addWidget(entry: WidgetEntry): () => void {
    const e = { ...entry, component: markRaw(entry.component) as Component };
    widgets.value = [...widgets.value.filter((w) => w.key !== e.key), e];
    return () => {
      widgets.value = widgets.value.filter((w) => w.key !== e.key || w.component !== e.component);
    };
  }
  function addAccountSection(entry: AccountSection): () => void {
    const e = { ...entry, component: markRaw(entry.component) as Component };
    accountSections.value = [...accountSections.value.filter((s) => s.key !== e.key), e].sort((a, b) => a.order - b.order);
    return () => {
      accountSections.value = accountSections.value.filter((s) => s.key !== e.key || s.component !== e.component);
    };
  }
  function addLoginStep(factor: string, pluginId: string, component: Component): () => void {
    const e = { pluginId, component: markRaw(component) as Component };
    loginSteps.value = { ...loginSteps.value, [factor]: e };
    return () => {
      if (loginSteps.value[factor] !== e) return;
      const { [factor]: _gone, ...rest } = loginSteps.value;
      loginSteps.value = rest;
    };
  }
  /** Drops everything a plugin contributed (its removers normally did already). */
  function dropPlugin(id: string) {
    menu.value = menu.value.filter((m) => m.pluginId !== id);
    widgets.value = widgets.value.filter((w) => w.pluginId !== id);
    accountSections.value = accountSections.value.filter((s) => s.pluginId !== id);
    const { [id]: _gone, ...rest } = plugins.value;
    plugins.value = rest;
  }
  return { menu, widgets, accountSections, loginSteps, plugins, addMenu, addWidget, addAccountSection, addLoginStep, dropPlugin };
});
