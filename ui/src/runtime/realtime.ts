import { ref } from 'vue';
import type { Socket } from 'socket.io-client';

export interface ShellEvent {
  id?: number;
  type: string;
  tenantId: string | null;
  payload: Record<string, unknown>;
  createdAt?: string;
}

type Handler = (event: ShellEvent) => void;

/** `user.created` exact, `user.*` prefix, `*` everything (like the server's event bus). */
export function eventMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

const listeners = new Set<{ pattern: string; handler: Handler }>();
let socket: Socket | null = null;
/** Whether the live connection is up (shown in the shell, used by the audit tail). */
export const live = ref(false);

export function onEvent(pattern: string, handler: Handler): () => void {
  const entry = { pattern, handler };
  listeners.add(entry);
  return () => void listeners.delete(entry);
}

export function dispatch(event: ShellEvent): void {
  for (const l of [...listeners]) {
    if (!eventMatches(l.pattern, event.type)) continue;
    try {
      l.handler(event);
    } catch (e) {
      console.error(`[mpanel] event handler for ${l.pattern} failed`, e);
    }
  }
}

/** socket.io-client, loaded on first use (it is not part of the initial bundle). */
export async function socketIo() {
  return (await import('socket.io-client')).io;
}

/** Connects the session's socket (cookie auth, same origin). Call again after a login to re-authenticate. */
export async function connect(): Promise<void> {
  disconnect();
  const io = await socketIo();
  const s = io({ path: '/socket.io', transports: ['websocket', 'polling'], withCredentials: true });
  socket = s;
  s.on('connect', () => { live.value = true; });
  s.on('disconnect', () => { live.value = false; });
  s.on('event', (e: ShellEvent) => dispatch(e));
}

export function disconnect(): void {
  socket?.removeAllListeners();
  socket?.disconnect();
  socket = null;
  live.value = false;
}
