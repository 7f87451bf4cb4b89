import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { bareHost, guardedLookup, isLocalName, isPrivateAddress } from './network-policy.js';
import { signatureHeader } from './signature.js';

/** One attempt to deliver: what is sent where. */
export interface OutgoingWebhook {
  url: string;
  secret: string;
  deliveryId: string;
  eventType: string;
  /** The exact JSON body; signed as is. */
  body: string;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  userAgent: string;
  /** Aborts the attempt (plugin disabled); the result then has `aborted: true`. */
  signal?: AbortSignal;
}

export interface AttemptResult {
  /** A 2xx answer. */
  ok: boolean;
  statusCode: number | null;
  /** Why it failed (HTTP status and the start of the answer, or the network error). */
  error: string | null;
  durationMs: number;
  aborted?: boolean;
}

/** Bytes of the receiver's answer kept for the delivery log. */
const ANSWER_SNIPPET = 512;

/**
 * POSTs one signed delivery. Never throws: every outcome is an AttemptResult.
 * Redirects are not followed (a 3xx is a failure), the whole attempt is bounded
 * by `timeoutMs`, and private addresses are refused after DNS unless allowed.
 */
export function sendWebhook(w: OutgoingWebhook, o: SendOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    let request: http.ClientRequest | undefined;
    const finish = (r: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      request?.destroy();
      resolve({ ...r, durationMs: elapsed() });
    };
    const onAbort = () => finish({ ok: false, statusCode: null, error: 'aborted: the webhooks plugin stopped', aborted: true });
    const timer = setTimeout(() => finish({ ok: false, statusCode: null, error: `timed out after ${o.timeoutMs} ms` }), o.timeoutMs);
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });

    let url: URL;
    try {
      url = new URL(w.url);
    } catch {
      return finish({ ok: false, statusCode: null, error: 'the endpoint URL is not valid' });
    }
    // Literal IPs never reach `lookup`, so they are checked here.
    const host = bareHost(url.hostname);
    if (!o.allowPrivateNetworks && (isLocalName(host) || (net.isIP(host) && isPrivateAddress(host)))) {
      return finish({ ok: false, statusCode: null, error: `${host} is a private address (private networks are not allowed)` });
    }
    const timestamp = Math.floor(Date.now() / 1000).toString();
    const headers = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(w.body).toString(),
      'user-agent': o.userAgent,
      'x-mpanel-event': w.eventType,
      'x-mpanel-delivery': w.deliveryId,
      'x-mpanel-timestamp': timestamp,
      'x-mpanel-signature': signatureHeader(w.secret, timestamp, w.body),
    };
    const client = url.protocol === 'https:' ? https : http;
    try {
      request = client.request(url, { method: 'POST', headers, agent: false, lookup: guardedLookup(o.allowPrivateNetworks) as never }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const ok = status >= 200 && status < 300;
          const answer = Buffer.concat(chunks).subarray(0, ANSWER_SNIPPET).toString('utf8').trim();
          const why = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
          finish({ ok, statusCode: status, error: ok ? null : `HTTP ${status}${why}${answer ? `: ${answer}` : ''}` });
        };
        res.on('data', (chunk: Buffer) => {
          if (size < ANSWER_SNIPPET) chunks.push(chunk);
          size += chunk.length;
          if (size >= ANSWER_SNIPPET) done(); // enough; don't download a huge answer
        });
        res.on('end', done);
        res.on('error', done);
      });
      request.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, statusCode: null, error: err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message }));
      request.end(w.body);
    } catch (err) {
      finish({ ok: false, statusCode: null, error: (err as Error).message });
    }
  });
}
