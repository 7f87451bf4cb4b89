// The Webhooks plugin's UI module: a prebuilt ES module the shell loads at run
// time. `vue` is provided by the shell's import map (one shared copy).
import { h, ref, onMounted } from 'vue';

const BASE = '/api/v1/p/webhooks';

/** The panel, built with the shell it runs in (`shell.api` calls the panel API with the user's session). */
const webhooksPanel = (shell) => ({
  name: 'WebhooksPanel',
  setup() {
    const endpoints = ref([]);
    const deliveries = ref([]);
    const url = ref('');
    const events = ref('*');
    const secret = ref(null);
    const error = ref(null);
    const selected = ref(null);

    const run = async (fn) => {
      error.value = null;
      try {
        await fn();
      } catch (e) {
        error.value = e.message;
      }
    };
    const loadDeliveries = async () => {
      const q = selected.value ? `?endpointId=${selected.value}` : '';
      deliveries.value = (await shell.api.get(`${BASE}/deliveries${q}`)).items;
    };
    const load = async () => {
      endpoints.value = (await shell.api.get(`${BASE}/endpoints`)).items;
      await loadDeliveries();
    };
    const add = () =>
      run(async () => {
        const created = await shell.api.post(`${BASE}/endpoints`, {
          url: url.value,
          events: events.value.split(',').map((s) => s.trim()).filter(Boolean),
        });
        secret.value = created.secret;
        url.value = '';
        await load();
      });
    const toggle = (e) => run(async () => { await shell.api.patch(`${BASE}/endpoints/${e.id}`, { active: !e.active }); await load(); });
    const remove = (e) => run(async () => { await shell.api.delete(`${BASE}/endpoints/${e.id}`); await load(); });
    const ping = (e) => run(async () => { await shell.api.post(`${BASE}/endpoints/${e.id}/test`); await loadDeliveries(); });
    const replay = (d) => run(async () => { await shell.api.post(`${BASE}/deliveries/${d.id}/replay`); await loadDeliveries(); });
    const show = (e) => run(async () => { selected.value = selected.value === e.id ? null : e.id; await loadDeliveries(); });
    onMounted(() => run(load));

    return () =>
      h('section', { class: 'webhooks-panel', 'data-testid': 'webhooks-panel' }, [
        h('h2', 'Webhooks'),
        h('form', { onSubmit: (ev) => { ev.preventDefault(); add(); } }, [
          h('input', { value: url.value, onInput: (ev) => (url.value = ev.target.value), 'aria-label': 'Endpoint URL', placeholder: 'https://example.com/hooks/mpanel', type: 'url' }),
          h('input', { value: events.value, onInput: (ev) => (events.value = ev.target.value), 'aria-label': 'Events', placeholder: 'tenant.*, user.created' }),
          h('button', { type: 'submit' }, 'Add endpoint'),
        ]),
        secret.value
          ? h('p', { role: 'status', 'data-testid': 'webhook-secret' }, [
              'Signing secret (shown only now — copy it): ',
              h('code', secret.value),
              h('button', { type: 'button', onClick: () => (secret.value = null) }, 'Done'),
            ])
          : null,
        error.value ? h('p', { role: 'alert' }, error.value) : null,
        h('table', { 'aria-label': 'Endpoints' }, [
          h('thead', h('tr', ['URL', 'Events', 'Active', ''].map((c) => h('th', c)))),
          h('tbody', endpoints.value.map((e) =>
            h('tr', { key: e.id, class: { selected: selected.value === e.id } }, [
              h('td', e.url),
              h('td', e.events.join(', ')),
              h('td', e.active ? 'yes' : 'no'),
              h('td', [
                h('button', { type: 'button', onClick: () => show(e) }, 'Log'),
                h('button', { type: 'button', onClick: () => ping(e) }, 'Send test'),
                h('button', { type: 'button', onClick: () => toggle(e) }, e.active ? 'Deactivate' : 'Activate'),
                h('button', { type: 'button', onClick: () => remove(e) }, 'Delete'),
              ]),
            ]))),
        ]),
        h('h3', 'Deliveries'),
        h('button', { type: 'button', onClick: () => run(loadDeliveries) }, 'Refresh'),
        h('table', { 'aria-label': 'Deliveries' }, [
          h('thead', h('tr', ['When', 'Event', 'State', 'Attempts', 'Answer', ''].map((c) => h('th', c)))),
          h('tbody', deliveries.value.map((d) =>
            h('tr', { key: d.id }, [
              h('td', new Date(d.createdAt).toLocaleString()),
              h('td', d.eventType),
              h('td', d.state),
              h('td', String(d.attempts)),
              h('td', d.lastError ?? (d.statusCode ? `HTTP ${d.statusCode}` : '')),
              h('td', d.state === 'pending' ? null : h('button', { type: 'button', onClick: () => replay(d) }, 'Replay')),
            ]))),
        ]),
      ]);
  },
});

/** Called by the shell: register routes and menu entries, return a disposer. */
export function install(shell) {
  const removeRoute = shell.addRoute({ path: '/webhooks', component: webhooksPanel(shell) });
  const removeMenu = shell.addMenuItem({ id: 'webhooks', label: 'Webhooks', path: '/webhooks' });
  return () => {
    removeMenu();
    removeRoute();
  };
}
