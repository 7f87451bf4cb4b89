import type { Server, Namespace, Socket } from 'socket.io';
import type { RealtimeNamespaceSpec, RealtimeSocket } from '@mpanel/sdk';
import type { Logger } from 'pino';

interface Registered {
  owner: string;
  path: string;
  spec: RealtimeNamespaceSpec<unknown>;
  nsp?: Namespace;
}

function wrap(socket: Socket): RealtimeSocket<unknown> {
  return {
    id: socket.id,
    identity: socket.data.identity,
    address: socket.handshake.address,
    on: (event, handler) => {
      socket.on(event, (data: unknown, ack?: unknown) => {
        void Promise.resolve(handler(data, typeof ack === 'function' ? (ack as (r: unknown) => void) : undefined)).catch((err) => {
          socket.emit('error-report', { event, message: (err as Error).message });
        });
      });
    },
    emit: (event, data) => {
      socket.emit(event, data);
    },
    request: (event, data, timeoutMs) => socket.timeout(timeoutMs).emitWithAck(event, data),
    onDisconnect: (handler) => {
      socket.on('disconnect', handler);
    },
    disconnect: () => {
      socket.disconnect(true);
    },
  };
}

/**
 * Plugin-owned socket.io namespaces (`/p/<plugin>/<name>`) on the panel's
 * one socket.io server. Namespaces registered before the server exists are
 * attached when it starts; removing one disconnects its clients.
 */
export class RealtimeHub {
  private io: Server | null = null;
  private readonly registered = new Map<string, Registered>();

  constructor(private readonly log: Logger) {}

  attach(io: Server): void {
    this.io = io;
    for (const r of this.registered.values()) this.open(r);
  }

  detach(): void {
    this.io = null;
    for (const r of this.registered.values()) r.nsp = undefined;
  }

  register(owner: string, name: string, spec: RealtimeNamespaceSpec<unknown>): () => void {
    if (!/^[a-z][a-z0-9-]{0,49}$/.test(name)) throw new Error(`namespace name "${name}" must be lowercase letters, digits and dashes`);
    const path = `/p/${owner}/${name}`;
    if (this.registered.has(path)) throw new Error(`namespace ${path} is already open`);
    const r: Registered = { owner, path, spec };
    this.registered.set(path, r);
    if (this.io) this.open(r);
    return () => this.close(path);
  }

  private open(r: Registered): void {
    const nsp = this.io!.of(r.path);
    nsp.use(async (socket, next) => {
      try {
        const identity = await r.spec.authenticate({
          auth: (socket.handshake.auth ?? {}) as Record<string, unknown>,
          headers: socket.handshake.headers,
          address: socket.handshake.address,
        });
        if (identity === null || identity === undefined) return next(new Error('unauthorized'));
        socket.data.identity = identity;
        next();
      } catch (err) {
        this.log.warn({ err, namespace: r.path }, 'realtime authenticate failed');
        next(new Error('unauthorized'));
      }
    });
    nsp.on('connection', (socket) => {
      void Promise.resolve(r.spec.onConnection(wrap(socket))).catch((err) => {
        this.log.warn({ err, namespace: r.path }, 'realtime connection handler failed');
        socket.disconnect(true);
      });
    });
    r.nsp = nsp;
  }

  private close(path: string): void {
    const r = this.registered.get(path);
    if (!r) return;
    this.registered.delete(path);
    if (r.nsp && this.io) {
      r.nsp.disconnectSockets(true);
      r.nsp.removeAllListeners();
      // socket.io has no public way to drop a namespace; without this a re-enabled plugin would get the old middleware.
      (this.io as unknown as { _nsps: Map<string, Namespace> })._nsps.delete(path);
    }
  }
}
