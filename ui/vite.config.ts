import { defineConfig, type Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

/**
 * The modules a plugin's UI imports by bare name, each mapped by the import
 * map in index.html to the shell's own copy (one Vue, one Pinia, one router,
 * one UI kit). Each is a one-line re-export entry built as its own chunk.
 */
export const SHARED_MODULES: Record<string, string> = {
  vue: 'src/shared/vue.ts',
  pinia: 'src/shared/pinia.ts',
  'vue-router': 'src/shared/vue-router.ts',
  '@mpanel/sdk/ui': 'src/kit/index.ts',
};

const entryName = (specifier: string) => `shared-${specifier.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}`;

/** Injects `<script type="importmap">` before any module script (hashed names in a build, source files in dev). */
function importMap(): Plugin {
  let dev = false;
  return {
    name: 'mpanel-import-map',
    configResolved(config) {
      dev = config.command === 'serve';
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const imports: Record<string, string> = {};
        for (const [specifier, file] of Object.entries(SHARED_MODULES)) {
          if (dev || !ctx.bundle) {
            imports[specifier] = `/${file}`;
            continue;
          }
          const chunk = Object.values(ctx.bundle).find((c) => c.type === 'chunk' && c.isEntry && c.name === entryName(specifier));
          if (!chunk) throw new Error(`import map: no chunk for ${specifier}`);
          imports[specifier] = `/${chunk.fileName}`;
        }
        return [{ tag: 'script', attrs: { type: 'importmap' }, children: JSON.stringify({ imports }), injectTo: 'head-prepend' }];
      },
    },
  };
}

const panel = process.env.MPANEL_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [vue(), importMap()],
  resolve: {
    alias: { '@mpanel/sdk/ui': fileURLToPath(new URL('./src/kit/index.ts', import.meta.url)) },
  },
  build: {
    target: 'es2022',
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        ...Object.fromEntries(Object.entries(SHARED_MODULES).map(([s, f]) => [entryName(s), fileURLToPath(new URL(`./${f}`, import.meta.url))])),
      },
      // Keep the shared entries' exports exactly: plugins import them by name at run time.
      preserveEntrySignatures: 'strict',
    },
  },
  server: {
    // Dev: `MPANEL_URL=http://127.0.0.1:8080 npm run dev -w @mpanel/ui` next to a running panel.
    proxy: {
      '/api': { target: panel },
      '/socket.io': { target: panel, ws: true },
      '/healthz': { target: panel },
    },
  },
});
