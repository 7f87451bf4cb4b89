// `@mpanel/sdk/vite` — the Vite preset that builds a plugin's UI module:
// one ES module (library mode) whose `install(shell)` the web shell calls,
// with vue, pinia, vue-router and @mpanel/sdk/ui kept external (the shell's
// import map supplies its own copies at run time).
import path from 'node:path';

/** Bare imports the shell provides; never bundle them (two Vues break reactivity and inject). */
export const SHARED_MODULES = ['vue', 'pinia', 'vue-router', '@mpanel/sdk/ui'];

const isShared = (id) => SHARED_MODULES.some((m) => id === m || id.startsWith(`${m}/`));

/**
 * Tells the shell which stylesheets the module brings: appends
 * `export const styles = [...]` (paths relative to the module), which the
 * shell adds as <link>s while the plugin is enabled and removes on disable.
 */
function exportStyles() {
  return {
    name: 'mpanel-plugin-ui-styles',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const css = Object.values(bundle).filter((f) => f.type === 'asset' && f.fileName.endsWith('.css')).map((f) => `./${f.fileName}`);
      for (const chunk of Object.values(bundle)) {
        if (chunk.type === 'chunk' && chunk.isEntry) chunk.code += `\nexport const styles = ${JSON.stringify(css)};\n`;
      }
    },
  };
}

/**
 * Usage (vite.config.js of a plugin):
 *
 *   import { mpanelPluginUi } from '@mpanel/sdk/vite';
 *   export default mpanelPluginUi({ entry: 'src/ui/index.ts' });
 *
 * Builds `dist/ui/index.js` (+ `index.css`); point the manifest's `ui` at it.
 * `@vitejs/plugin-vue` is used for .vue files when the plugin has it installed.
 */
export function mpanelPluginUi(options = {}) {
  const { entry = 'src/ui/index.ts', outDir = 'dist/ui', plugins = [], vite = {} } = options;
  return async ({ mode }) => {
    const extra = [];
    if (options.vue !== false) {
      try {
        const { default: vue } = await import('@vitejs/plugin-vue');
        extra.push(vue());
      } catch {
        // no @vitejs/plugin-vue: render functions / prebuilt components only
      }
    }
    return {
      ...vite,
      plugins: [...extra, ...plugins, exportStyles(), ...(vite.plugins ?? [])],
      define: { 'process.env.NODE_ENV': JSON.stringify(mode === 'development' ? 'development' : 'production'), ...(vite.define ?? {}) },
      build: {
        outDir,
        emptyOutDir: true,
        target: 'es2022',
        sourcemap: true,
        cssCodeSplit: false,
        ...(vite.build ?? {}),
        lib: { entry: path.resolve(entry), formats: ['es'], fileName: () => 'index.js', cssFileName: 'index' },
        rollupOptions: { ...(vite.build?.rollupOptions ?? {}), external: isShared },
      },
    };
  };
}

export default mpanelPluginUi;
