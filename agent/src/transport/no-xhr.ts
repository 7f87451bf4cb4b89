/**
 * Stands in for `xmlhttprequest-ssl` in the bundled agent: the agent's link
 * uses the websocket transport only (`transports: ['websocket']`), so
 * engine.io-client's HTTP long-polling transport is never used — and its
 * dependency (which loads `http`, `https`, `url`, `child_process` and `fs`
 * at startup) stays out of the agent's memory.
 */
export class XMLHttpRequest {
  constructor() {
    throw new Error('HTTP long-polling is not available in mpanel-agent (websocket only)');
  }
}
export default { XMLHttpRequest };
