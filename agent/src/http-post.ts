import { createRequire } from 'node:module';
import type { IncomingMessage, RequestOptions } from 'node:http';

const lazy = createRequire(import.meta.url);

/**
 * POSTs JSON and returns the status and body text. The agent does not use
 * `fetch`: Node's fetch parses HTTP with a WebAssembly module, and the agent
 * runs in V8's lite mode (see mpanel-agent.service), which has no
 * WebAssembly. `node:http`/`node:https` are loaded here, on first use (only
 * `enroll` needs them).
 */
export function postJson(url: string, body: unknown, timeoutMs: number): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const mod = (target.protocol === 'https:' ? lazy('node:https') : lazy('node:http')) as typeof import('node:https');
  const payload = Buffer.from(JSON.stringify(body));
  const options: RequestOptions = { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': payload.length }, timeout: timeoutMs };
  return new Promise((resolve, reject) => {
    const req = mod.request(target, options, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // An enrolment answer is a few hundred bytes: anything huge is not our panel.
        if (size > 1024 * 1024) req.destroy(new Error('the answer is too large'));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
