// socket.io-client for the bundled bin (scripts/bundle.mjs resolves it to its CommonJS build,
// with `ws` replaced by mini-ws.ts, `xmlhttprequest-ssl` by no-xhr.ts and `debug` by no-debug.ts).
export { io } from 'socket.io-client';
