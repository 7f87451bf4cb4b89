// Databases panel: list with sizes and quota usage, connection details with
// copy buttons, create (database + optional owner) and delete with a typed
// confirmation. Plain ES module; `vue` comes from the shell (import map).
import { h, ref, computed, onMounted } from 'vue';

const API = '/api/v1/p/database';

const fmtSize = (bytes) => {
  if (bytes == null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
};

function copyButton(shell, text, label) {
  return h('button', {
    type: 'button', 'aria-label': `Copy ${label}`,
    onClick: async () => {
      try { await navigator.clipboard.writeText(text); shell.toast.success(`${label} copied`); } catch (e) { shell.toast.error(e); }
    },
  }, 'Copy');
}

function makePanel(shell) {
  return {
    name: 'DatabasesPanel',
    setup() {
      const databases = ref([]);
      const usage = ref(null);
      const servers = ref([]);
      const form = ref({ name: '', owner: '', serverId: '' });
      const secret = ref(null); // password shown once
      const confirming = ref(null);
      const typed = ref('');
      const error = ref(null);
      const busy = ref(false);

      const load = async () => {
        const me = await shell.api.get('/api/v1/auth/me').catch(() => null);
        const tenantId = me?.user?.tenantId ?? me?.tenantId;
        [databases.value, servers.value] = await Promise.all([shell.api.get(`${API}/databases`), shell.api.get(`${API}/servers`)]);
        if (tenantId) usage.value = await shell.api.get(`${API}/tenants/${tenantId}/usage`).catch(() => null);
        if (!form.value.serverId && servers.value[0]) form.value.serverId = (servers.value.find((s) => s.isDefault) ?? servers.value[0]).id;
      };

      const create = async () => {
        error.value = null;
        busy.value = true;
        try {
          const body = { name: form.value.name, serverId: form.value.serverId || undefined };
          if (form.value.owner) body.owner = form.value.owner;
          const res = await shell.api.post(`${API}/databases`, body);
          if (res.owner) secret.value = res.owner;
          form.value.name = '';
          form.value.owner = '';
          shell.toast.success(`Database ${res.database.name} created`);
          await load();
        } catch (e) {
          error.value = e.detail ?? e.message;
        } finally {
          busy.value = false;
        }
      };

      const remove = async (db) => {
        error.value = null;
        try {
          await shell.api.delete(`${API}/databases/${db.id}?confirm=${encodeURIComponent(typed.value)}`);
          confirming.value = null;
          typed.value = '';
          shell.toast.success(`Database ${db.name} deleted`);
          await load();
        } catch (e) {
          error.value = e.detail ?? e.message;
        }
      };

      const quotaLine = computed(() => {
        const u = usage.value;
        if (!u) return null;
        const part = (used, limit, unit = '') => `${used}${unit}${limit == null ? '' : ` of ${limit}${unit}`}`;
        return `Prefix ${u.prefix}_ · databases ${part(u.usage.databases, u.limits.databases)} · users ${part(u.usage.users, u.limits.users)} · size ${part(u.usage.sizeMb, u.limits.sizeMb, ' MB')}`;
      });

      onMounted(() => load().catch((e) => (error.value = e.detail ?? e.message)));

      return () => h('section', { 'data-testid': 'databases-panel' }, [
        h('h2', 'Databases'),
        quotaLine.value ? h('p', { 'data-testid': 'quota' }, quotaLine.value) : null,
        error.value ? h('p', { role: 'alert' }, error.value) : null,
        secret.value ? h('div', { role: 'status', 'data-testid': 'new-credentials' }, [
          h('p', `Password for ${secret.value.user} — shown only now:`),
          h('code', secret.value.password), copyButton(shell, secret.value.password, 'Password'),
          h('button', { type: 'button', onClick: () => (secret.value = null) }, 'Done'),
        ]) : null,
        shell.can('database.manage') ? h('form', { onSubmit: (e) => { e.preventDefault(); create(); } }, [
          h('label', ['Name ', h('input', { value: form.value.name, placeholder: usage.value ? `${usage.value.prefix}_shop` : 'prefix_shop', onInput: (e) => (form.value.name = e.target.value), required: true })]),
          h('label', ['Owner user (optional) ', h('input', { value: form.value.owner, onInput: (e) => (form.value.owner = e.target.value) })]),
          h('label', ['Server ', h('select', { value: form.value.serverId, onChange: (e) => (form.value.serverId = e.target.value) },
            servers.value.map((s) => h('option', { value: s.id, key: s.id }, `${s.name} (${s.engine})`)))]),
          h('button', { type: 'submit', disabled: busy.value }, 'Create database'),
        ]) : null,
        h('table', [
          h('thead', h('tr', ['Name', 'Server', 'Size', 'Users', 'Connection', ''].map((c) => h('th', c)))),
          h('tbody', databases.value.map((d) => h('tr', { key: d.id }, [
            h('td', d.name),
            h('td', `${d.connection.engine} ${d.connection.host}:${d.connection.port}`),
            h('td', fmtSize(d.sizeBytes)),
            h('td', d.grants.map((g) => `${g.user} (${g.privilege})`).join(', ') || '—'),
            h('td', [h('code', d.connection.uri), copyButton(shell, d.connection.uri, 'Connection URI'), copyButton(shell, d.connection.host, 'Host')]),
            h('td', confirming.value === d.id
              ? [h('input', { 'aria-label': `Type ${d.name} to confirm`, value: typed.value, onInput: (e) => (typed.value = e.target.value) }),
                 h('button', { type: 'button', disabled: typed.value !== d.name, onClick: () => remove(d) }, 'Delete for good'),
                 h('button', { type: 'button', onClick: () => { confirming.value = null; typed.value = ''; } }, 'Cancel')]
              : shell.can('database.manage') ? h('button', { type: 'button', onClick: () => { confirming.value = d.id; typed.value = ''; } }, 'Delete…') : null),
          ]))),
        ]),
      ]);
    },
  };
}

export function install(shell) {
  const removeRoute = shell.addRoute({ path: '/databases', component: makePanel(shell), title: 'Databases', permission: 'database.read' });
  const removeMenu = shell.addMenuItem({ id: 'database', label: 'Databases', path: '/databases', icon: 'database', permission: 'database.read', order: 30 });
  return () => {
    removeMenu();
    removeRoute();
  };
}
