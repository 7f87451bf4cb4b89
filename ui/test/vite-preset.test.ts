// The SDK's Vite preset builds a plugin UI module the shell can load: one ES
// module, vue / pinia / vue-router / @mpanel/sdk/ui left as bare imports (the
// shell's import map supplies them), its CSS listed in `styles`.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from 'vite';
import { mpanelPluginUi } from '../../sdk/vite/index.js';

describe('@mpanel/sdk/vite', () => {
  it('builds an SFC panel with the shared modules external and its CSS listed', async () => {
    const base = path.resolve(import.meta.dirname, '../../test/artifacts/preset');
    fs.mkdirSync(base, { recursive: true });
    const dir = fs.mkdtempSync(path.join(base, 'p-'));
    fs.mkdirSync(path.join(dir, 'src/ui'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src/ui/Panel.vue'), `<script setup>
import { ref } from 'vue';
import { useRoute } from 'vue-router';
import { MpButton } from '@mpanel/sdk/ui';
const n = ref(0);
const route = useRoute();
</script>
<template><div class="demo">{{ route.path }} <MpButton @click="n++">{{ n }}</MpButton></div></template>
<style>.demo { color: rebeccapurple; }</style>
`);
    fs.writeFileSync(path.join(dir, 'src/ui/index.js'), `import Panel from './Panel.vue';
import { defineStore } from 'pinia';
export const useDemo = defineStore('demo', { state: () => ({ x: 1 }) });
export function install(shell) { return shell.addRoute({ path: '/demo', component: Panel }); }
`);
    const config = await mpanelPluginUi({ entry: path.join(dir, 'src/ui/index.js'), outDir: path.join(dir, 'dist/ui') })({ command: 'build', mode: 'production' });
    await build({ ...config, root: dir, configFile: false, logLevel: 'silent' });
    const js = fs.readFileSync(path.join(dir, 'dist/ui/index.js'), 'utf8');
    expect(js).toMatch(/from\s*["']vue["']/);
    expect(js).toMatch(/from\s*["']vue-router["']/);
    expect(js).toMatch(/from\s*["']pinia["']/);
    expect(js).toMatch(/from\s*["']@mpanel\/sdk\/ui["']/);
    expect(js).not.toContain('createRenderer'); // no bundled copy of Vue
    expect(js).toMatch(/export\s*\{[^}]*install/);
    expect(js).toContain('export const styles = ["./index.css"]');
    expect(fs.readFileSync(path.join(dir, 'dist/ui/index.css'), 'utf8')).toContain('.demo{color:#639}');
  }, 60_000);
});
