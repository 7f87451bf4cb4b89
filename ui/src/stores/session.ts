import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '../api';
import { isApiError } from '../api/client';

export interface Me {
  user: { id: string; tenantId: string; email: string; name: string; emailVerified: boolean; disabled: boolean; createdAt: string };
  tenant: { id: string; path: string };
  permissions: string[];
  csrfToken: string | null;
  actorType: string;
  sessionId: string | null;
}

export interface FactorRequirement {
  factor: string;
  label: string;
  hints?: Record<string, unknown>;
}

/** A login that still needs a second factor (401 second-factor-required). */
export interface PendingLogin {
  ticket: string;
  factors: FactorRequirement[];
  expiresAt: number;
}

/** Who is logged in, what they may do, and the login / setup flow. */
export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null);
  /** null = not asked yet. */
  const setupNeeded = ref<boolean | null>(null);
  const checked = ref(false);
  const pending = ref<PendingLogin | null>(null);

  const permissions = computed(() => new Set(me.value?.permissions ?? []));
  const can = (permission: string) => {
    if (!me.value) return false;
    if (permissions.value.has('*') || permissions.value.has(permission)) return true;
    // `hello.*` style grants
    for (const p of permissions.value) if (p.endsWith('.*') && permission.startsWith(p.slice(0, -1))) return true;
    return false;
  };

  async function refresh(): Promise<Me | null> {
    try {
      const m = await api.request<Me>('GET', '/api/v1/auth/me', undefined, { quiet401: true });
      me.value = m;
      api.csrfToken = m.csrfToken;
    } catch (e) {
      if (!isApiError(e) || (e.status !== 401 && e.status !== 403)) throw e;
      me.value = null;
      api.csrfToken = null;
    } finally {
      checked.value = true;
    }
    return me.value;
  }

  async function checkSetup(): Promise<boolean> {
    if (setupNeeded.value === null) {
      const r = await api.get<{ needed: boolean }>('/api/v1/setup');
      setupNeeded.value = r.needed;
    }
    return setupNeeded.value;
  }

  /**
   * Posts a login step. A session → refresh and true; `second-factor-required`
   * → remember the ticket and factors in `pending` and false; anything else throws.
   */
  async function loginStep(path: string, body: Record<string, unknown>): Promise<boolean> {
    try {
      const r = await api.post<{ csrfToken: string }>(path, body);
      api.csrfToken = r.csrfToken;
      pending.value = null;
      await refresh();
      return true;
    } catch (e) {
      if (isApiError(e) && e.code === 'second-factor-required') {
        pending.value = { ticket: String(e.ticket), factors: (e.factors as FactorRequirement[]) ?? [], expiresAt: Date.now() + Number(e.expiresInSeconds ?? 300) * 1000 };
        return false;
      }
      throw e;
    }
  }

  /** Resolves true when logged in; false when a second factor is pending (see `pending`). */
  function login(email: string, password: string): Promise<boolean> {
    return loginStep('/api/v1/auth/login', { email, password });
  }

  /** Answers one factor; true when the session was issued, false when more factors remain. */
  async function answerFactor(factor: string, response: Record<string, unknown>): Promise<boolean> {
    if (!pending.value) throw new Error('No login is waiting for a second factor');
    return loginStep('/api/v1/auth/login/factor', { ticket: pending.value.ticket, factor, response });
  }

  function cancelFactor() {
    pending.value = null;
  }

  async function logout() {
    try {
      await api.post('/api/v1/auth/logout');
    } finally {
      me.value = null;
      api.csrfToken = null;
    }
  }

  function forget() {
    me.value = null;
    api.csrfToken = null;
  }

  return { me, setupNeeded, checked, pending, can, refresh, checkSetup, login, answerFactor, cancelFactor, logout, forget };
});
