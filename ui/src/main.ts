import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createShellRouter } from './router';
import { PluginRuntime } from './runtime/plugins';
import { setUnauthenticatedHandler } from './api';
import { useSession } from './stores/session';
import { useBranding } from './stores/branding';
import { connect, disconnect } from './runtime/realtime';
import { disposeLoginSteps } from './runtime/public-ui';
import { watch } from 'vue';
import './styles.css';

const pinia = createPinia();
let runtime: PluginRuntime;
const router = createShellRouter(() => runtime);
runtime = new PluginRuntime(router);

const app = createApp(App);
app.use(pinia);
app.use(router);
app.config.errorHandler = (err, _instance, info) => {
  console.error(`[mpanel] ${info}:`, err);
};

const session = useSession(pinia);
const branding = useBranding(pinia);
branding.apply();
void branding.load();

// 401 from any call: the session is gone — back to login, and back here after it.
setUnauthenticatedHandler(() => {
  if (!session.me) return;
  session.forget();
  const here = router.currentRoute.value;
  if (!here.meta.public) void router.push({ name: 'login', query: { next: here.fullPath } });
});

// Live connection and plugins follow the session.
watch(
  () => session.me?.sessionId ?? session.me?.user.id ?? null,
  (who, before) => {
    if (who) {
      disposeLoginSteps();
      void connect();
      if (before) void runtime.sync();
    } else {
      disconnect();
      runtime.stop();
    }
    if (who !== before) void branding.load();
  },
);

app.mount('#app');
