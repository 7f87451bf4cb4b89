import type http from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { Request } from 'express';
import type { Kernel } from '../kernel.js';
import type { AuthResult } from '../http/route-registry.js';
import type { DomainEvent } from './outbox.js';

/**
 * Browsers connect with their session cookie, API clients with
 * `auth: { token: 'mpt_…' }`. Each delivered domain event is sent as
 * `event` to every socket whose actor can see the event's tenant and holds
 * its permission there. Authorization is re-resolved on every event (cached
 * in the authenticator), so revoking a session also silences its socket.
 */
export class SocketGateway {
  readonly io: Server;
  private readonly removeSink: () => void;

  constructor(server: http.Server, private readonly k: Kernel) {
    this.io = new Server(server, { path: '/socket.io', serveClient: false, cors: { origin: false } });
    this.io.use(async (socket, next) => {
      try {
        const auth = await this.authenticate(socket);
        if (auth.actor.type === 'anonymous') return next(new Error('unauthenticated'));
        // A cookie rides along with any page's WebSocket: only the panel's own origin may use it
        // (cross-site WebSocket hijacking). API tokens and non-browser clients send no Origin to check.
        if (auth.csrfToken && !this.originAllowed(socket)) return next(new Error('origin not allowed'));
        socket.data.auth = auth;
        next();
      } catch {
        next(new Error('unauthenticated'));
      }
    });
    this.removeSink = k.events.addSink((event) => this.broadcast(event));
  }

  private originAllowed(socket: Socket): boolean {
    const origin = socket.handshake.headers.origin;
    if (origin === undefined) return true;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return false;
    }
    const allowed = [socket.handshake.headers.host];
    try {
      allowed.push(new URL(this.k.config.publicUrl).host);
    } catch {
      // an unparsable public URL allows nothing extra
    }
    return allowed.includes(host);
  }

  private authenticate(socket: Socket): Promise<AuthResult> {
    const token = (socket.handshake.auth as { token?: unknown })?.token;
    const headers = { ...socket.handshake.headers } as Record<string, string | undefined>;
    if (typeof token === 'string') headers.authorization = `Bearer ${token}`;
    return this.k.authenticator.authenticate({ headers } as unknown as Request);
  }

  private async broadcast(event: DomainEvent): Promise<void> {
    for (const socket of this.io.of('/').sockets.values()) {
      let auth: AuthResult;
      try {
        auth = await this.authenticate(socket);
      } catch {
        socket.disconnect(true);
        continue;
      }
      if (event.tenantPath && !auth.authz.canSeeTenant(event.tenantPath)) continue;
      if (event.permission) {
        const ok = event.tenantPath ? auth.authz.hasOn(event.permission, event.tenantPath) : auth.authz.has(event.permission);
        if (!ok) continue;
      }
      socket.emit('event', event);
    }
  }

  async close(): Promise<void> {
    this.removeSink();
    this.io.disconnectSockets(true);
    // io.close() would also close the HTTP server, which Panel.close manages itself.
    this.io.engine.close();
  }
}
