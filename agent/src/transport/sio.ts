import { createRequire } from 'node:module';

// The CommonJS build: under `import`, Node resolves socket.io-client to its debug build, which costs ~6 MB more resident memory.
// (The bundled bin replaces this module with sio.bundle.ts — see scripts/bundle.mjs.)
export const { io } = createRequire(import.meta.url)('socket.io-client') as typeof import('socket.io-client');
