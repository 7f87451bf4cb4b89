import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api } from '../api';
import type { Branding, PublicUi } from '../runtime/public-ui';

const DEFAULT_NAME = 'mpanel';

/** Per-tenant branding (product name, logo, colours) applied to the shell, and the theme (light / dark). */
export const useBranding = defineStore('branding', () => {
  const branding = ref<Branding>({});
  const publicUi = ref<PublicUi | null>(null);
  const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('mpanel-theme') : null;
  const theme = ref<'light' | 'dark' | 'system'>(stored === 'light' || stored === 'dark' ? stored : 'system');
  const productName = computed(() => branding.value.productName || DEFAULT_NAME);

  function apply() {
    if (typeof document === 'undefined') return;
    const root = document.documentElement;
    if (theme.value === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', theme.value);
    const set = (name: string, value?: string) => (value ? root.style.setProperty(name, value) : root.style.removeProperty(name));
    set('--brand', branding.value.primaryColor);
    set('--accent', branding.value.accentColor);
    document.title = productName.value;
  }

  /** Reads the branding that applies here (the user's tenant chain when logged in, else this domain's). */
  async function load(): Promise<PublicUi | null> {
    try {
      publicUi.value = await api.request<PublicUi>('GET', '/api/v1/ui/public', undefined, { quiet401: true });
      branding.value = publicUi.value.branding ?? {};
    } catch {
      publicUi.value = null;
    }
    apply();
    return publicUi.value;
  }

  function setTheme(t: 'light' | 'dark' | 'system') {
    theme.value = t;
    if (t === 'system') localStorage.removeItem('mpanel-theme');
    else localStorage.setItem('mpanel-theme', t);
    apply();
  }

  const dark = computed(() =>
    theme.value === 'dark' || (theme.value === 'system' && typeof matchMedia !== 'undefined' && matchMedia('(prefers-color-scheme: dark)').matches),
  );
  function toggleTheme() {
    setTheme(dark.value ? 'light' : 'dark');
  }

  return { branding, publicUi, productName, theme, dark, load, apply, setTheme, toggleTheme };
});
