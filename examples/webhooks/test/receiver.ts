import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  /** Date.now() when the request arrived. */
  at: number;
  /** What the receiver answered. */
  status: number;
}

/**
 * A real webhook receiver on 127.0.0.1 (random port) that records every
 * request. It can answer 500 to the first N requests, to all of them, or hang.
 */
export interface Receiver {
  url: string;
  requests: Received[];
  failFirst(n: number, status?: number): void;
  failAlways(status?: number): void;
  hang(on: boolean): void;
  heal(): void;
  /** Requests whose x-mpanel-delivery header is this id. */
  forDelivery(id: string): Received[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  let failures = 0;
  let always = false;
  let failStatus = 500;
  let hanging = false;
  const requests: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* recorded as is */
      }
      if (hanging) return; // never answer
      const fail = always || failures > 0;
      if (failures > 0) failures--;
      const status = fail ? failStatus : 200;
      requests.push({ headers: req.headers, body, json, at: Date.now(), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(fail ? 'receiver says no' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/mpanel`,
    requests,
    failFirst(n, status = 500) {
      failures = n;
      failStatus = status;
    },
    failAlways(status = 500) {
      always = true;
      failStatus = status;
    },
    hang(on) {
      hanging = on;
    },
    heal() {
      always = false;
      failures = 0;
      hanging = false;
    },
    forDelivery: (id) => requests.filter((r) => r.headers['x-mpanel-delivery'] === id),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `probe` until it returns a truthy value; fails after `timeoutMs` with the last value in the message. */
export async function until<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 20_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
