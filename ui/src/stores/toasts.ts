import { defineStore } from 'pinia';
import { ref } from 'vue';
import { errorMessage } from '../api/client';

export interface Toast {
  id: number;
  kind: 'success' | 'error' | 'info';
  message: string;
}

let next = 1;

/** Toasts for every action's outcome; errors show the server's problem detail. */
export const useToasts = defineStore('toasts', () => {
  const items = ref<Toast[]>([]);
  const dismiss = (id: number) => {
    items.value = items.value.filter((t) => t.id !== id);
  };
  const push = (kind: Toast['kind'], message: string, ms = kind === 'error' ? 8000 : 4000) => {
    const id = next++;
    items.value = [...items.value.slice(-4), { id, kind, message }];
    if (ms > 0) setTimeout(() => dismiss(id), ms);
    return id;
  };
  return {
    items,
    dismiss,
    success: (message: string) => push('success', message),
    info: (message: string) => push('info', message),
    error: (error: unknown) => push('error', errorMessage(error)),
  };
});
