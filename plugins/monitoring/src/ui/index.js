// The Monitoring plugin's UI module: a plain ES module the shell loads at run
// time. `vue` comes from the shell's import map. uPlot and the socket.io
// browser client are loaded lazily from ./vendor only when a dashboard opens,
// so they never weigh on the shell.
import { h, ref, reactive, onMounted, onBeforeUnmount, watch } from 'vue';
import { RouterLink, useRoute } from 'vue-router';

const API = '/api/v1/p/monitoring';
const vendor = (file) => new URL(`./vendor/${file}`, import.meta.url).href;

let uplotPromise = null;
function loadUplot() {
  if (!uplotPromise) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = vendor('uPlot.min.css');
    link.dataset.plugin = 'monitoring';
    document.head.appendChild(link);
    uplotPromise = import(/* @vite-ignore */ vendor('uPlot.esm.js')).then((m) => m.default);
  }
  return uplotPromise;
}

/** A socket on the live namespace, authenticated with a short-lived ticket. */
async function liveSocket(api) {
  const [{ io }, t] = await Promise.all([import(/* @vite-ignore */ vendor('socket.io.esm.min.js')), api.get(`${API}/live-ticket`)]);
  return io(t.namespace, { auth: { ticket: t.ticket }, transports: ['websocket'] });
}

const statusBadge = (s) => h('span', { class: `mon-status mon-status-${s}`, 'data-status': s }, s);
const fmtBytes = (b) => {
  if (b === null || b === undefined) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) (b /= 1024), i++;
  return `${b.toFixed(1)} ${u[i]}`;
};

// ───────────────────────── agent list + enrolment tokens ─────────────────────────
function agentsPage(shell) {
  return {
    name: 'MonitoringAgents',
    setup() {
      const agents = ref([]);
      const tokens = ref([]);
      const created = ref(null);
      const label = ref('');
      const load = async () => {
        agents.value = (await shell.api.get(`${API}/agents`)).items;
        if (shell.can('monitoring.manage')) tokens.value = (await shell.api.get(`${API}/enrollment-tokens`)).items;
      };
      const offs = [
        shell.onEvent('monitoring.agent.*', (e) => {
          const a = agents.value.find((x) => x.id === e.payload.agentId);
          if (!a) return void load();
          if (e.type === 'monitoring.agent.online') a.status = 'online';
          else if (e.type === 'monitoring.agent.offline') a.status = 'offline';
          else if (e.type === 'monitoring.agent.revoked') a.status = 'revoked';
        }),
      ];
      onMounted(load);
      onBeforeUnmount(() => offs.forEach((off) => off()));
      const act = async (fn) => {
        try {
          await fn();
          await load();
        } catch (e) {
          shell.toast.error(e);
        }
      };
      const createToken = () => act(async () => {
        created.value = await shell.api.post(`${API}/enrollment-tokens`, label.value ? { label: label.value } : {});
        label.value = '';
      });
      const rename = (a) => {
        const name = window.prompt('New name', a.name);
        if (name) act(() => shell.api.patch(`${API}/agents/${a.id}`, { name }));
      };
      const revoke = (a) => window.confirm(`Revoke ${a.name}? It will be disconnected and can't report again.`) && act(() => shell.api.post(`${API}/agents/${a.id}/revoke`));
      return () => h('section', { class: 'mon-agents', 'data-testid': 'monitoring-agents' }, [
        h('h2', 'Servers'),
        h('table', [
          h('thead', h('tr', ['Name', 'Host', 'Status', 'Last seen', ''].map((c) => h('th', c)))),
          h('tbody', agents.value.map((a) => h('tr', { key: a.id }, [
            h('td', h(RouterLink, { to: `/monitoring/agents/${a.id}` }, () => a.name)),
            h('td', a.hostname),
            h('td', statusBadge(a.status)),
            h('td', a.lastSeenAt ? new Date(a.lastSeenAt).toLocaleString() : '–'),
            h('td', shell.can('monitoring.manage') && a.status !== 'revoked' ? [h('button', { onClick: () => rename(a) }, 'Rename'), h('button', { onClick: () => revoke(a) }, 'Revoke')] : null),
          ]))),
        ]),
        shell.can('monitoring.manage') ? h('div', { class: 'mon-tokens' }, [
          h('h3', 'Add a server'),
          h('form', { onSubmit: (e) => { e.preventDefault(); createToken(); } }, [
            h('input', { value: label.value, onInput: (e) => (label.value = e.target.value), placeholder: 'Name (optional)', 'aria-label': 'Server name' }),
            h('button', { type: 'submit' }, 'Create enrolment token'),
          ]),
          created.value ? h('div', { class: 'mon-token-created' }, [
            h('p', `Run this on the server before ${new Date(created.value.expiresAt).toLocaleString()} (the token works once):`),
            h('pre', created.value.command),
          ]) : null,
          h('table', [
            h('thead', h('tr', ['Label', 'Status', 'Expires', ''].map((c) => h('th', c)))),
            h('tbody', tokens.value.map((t) => h('tr', { key: t.id }, [
              h('td', t.label || '–'), h('td', t.status), h('td', new Date(t.expiresAt).toLocaleString()),
              h('td', t.status === 'active' ? h('button', { onClick: () => act(() => shell.api.delete(`${API}/enrollment-tokens/${t.id}`)) }, 'Revoke') : null),
            ]))),
          ]),
        ]) : null,
      ]);
    },
  };
}

// ───────────────────────── per-agent dashboard ─────────────────────────
const CHARTS = [
  { title: 'CPU %', metrics: ['cpu_usage_percent', 'cpu_iowait_percent'] },
  { title: 'Load', metrics: ['load1', 'load5', 'load15'] },
  { title: 'Memory', metrics: ['memory_used_bytes', 'memory_buff_cache_bytes', 'swap_used_bytes'], bytes: true },
  { title: 'Network (bytes/s)', metrics: ['network_receive_bytes_per_second*', 'network_transmit_bytes_per_second*'], bytes: true },
  { title: 'Disk I/O (bytes/s)', metrics: ['disk_read_bytes_per_second*', 'disk_write_bytes_per_second*'], bytes: true },
];
const RANGES = { '15m': 900e3, '1h': 3600e3, '6h': 6 * 3600e3, '2d': 2 * 86400e3, '30d': 30 * 86400e3 };
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const MAX_LIVE_POINTS = 2000;

function chart(uPlot, el, spec, data) {
  const series = [{}, ...data.names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 1.5 }))];
  return new uPlot({
    width: el.clientWidth || 600, height: 180, series,
    axes: [{}, { values: (u, vals) => vals.map((v) => (spec.bytes ? fmtBytes(v) : v)) }],
  }, [data.x, ...data.ys], el);
}

function agentDashboard(shell) {
  return {
    name: 'MonitoringAgent',
    setup() {
      const id = String(useRoute().params.id);
      const agent = ref(null);
      const range = ref('1h');
      const resolution = ref('');
      const els = CHARTS.map(() => ref(null));
      const plots = [];
      const datasets = [];
      let socket = null;
      const load = async () => {
        agent.value = await shell.api.get(`${API}/agents/${id}`);
        const uPlot = await loadUplot();
        const from = new Date(Date.now() - RANGES[range.value]).toISOString();
        for (let c = 0; c < CHARTS.length; c++) {
          const spec = CHARTS[c];
          const res = await shell.api.get(`${API}/agents/${id}/series?metrics=${encodeURIComponent(spec.metrics.join(','))}&from=${from}`);
          resolution.value = res.resolution;
          const xs = [...new Set(res.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
          const index = new Map(xs.map((x, i) => [x, i]));
          const ys = res.series.map((s) => {
            const col = new Array(xs.length).fill(null);
            for (const p of s.points) col[index.get(p[0])] = p[1];
            return col;
          });
          datasets[c] = { names: res.series.map((s) => s.metric), x: xs.map((x) => x / 1000), ys };
          plots[c]?.destroy();
          if (els[c].value) plots[c] = chart(uPlot, els[c].value, spec, datasets[c]);
        }
      };
      const onSample = (s) => {
        if (s.agentId !== id || !['15m', '1h'].includes(range.value)) return;
        datasets.forEach((d, c) => {
          if (!d || !plots[c]) return;
          d.x.push(s.ts / 1000);
          d.names.forEach((n, i) => d.ys[i].push(s.metrics[n] ?? null));
          if (d.x.length > MAX_LIVE_POINTS) {
            d.x.shift();
            d.ys.forEach((y) => y.shift());
          }
          plots[c].setData([d.x, ...d.ys]);
        });
      };
      onMounted(async () => {
        try {
          await load();
          socket = await liveSocket(shell.api);
          socket.on('connect', () => socket.emit('subscribe', { agentId: id }, () => undefined));
          socket.on('sample', onSample);
        } catch (e) {
          shell.toast.error(e);
        }
      });
      watch(range, () => load().catch((e) => shell.toast.error(e)));
      onBeforeUnmount(() => {
        socket?.disconnect();
        plots.forEach((p) => p?.destroy());
      });
      return () => h('section', { class: 'mon-dashboard', 'data-testid': 'monitoring-dashboard' }, [
        h('h2', [agent.value?.name ?? '…', ' ', agent.value ? statusBadge(agent.value.status) : null]),
        h('div', { class: 'mon-ranges' }, [
          ...Object.keys(RANGES).map((r) => h('button', { 'aria-pressed': range.value === r, onClick: () => (range.value = r) }, r)),
          h('span', { class: 'mon-resolution' }, resolution.value ? ` resolution: ${resolution.value}` : ''),
        ]),
        ...CHARTS.map((spec, c) => h('figure', { class: 'mon-chart' }, [h('figcaption', spec.title), h('div', { ref: els[c] })])),
        shell.can('monitoring.command') && agent.value ? h(commandRunner(shell, id, agent)) : null,
      ]);
    },
  };
}

// ───────────────────────── command runner ─────────────────────────
function commandRunner(shell, agentId, agent) {
  return {
    name: 'MonitoringCommandRunner',
    setup() {
      const name = ref('');
      const run = reactive({ id: null, output: '', status: '' });
      let socket = null;
      onMounted(async () => {
        socket = await liveSocket(shell.api);
        socket.on('connect', () => socket.emit('subscribe', { agentId }, () => undefined));
        socket.on('command', (e) => {
          if (e.commandId !== run.id) return;
          if (e.type === 'output') run.output += e.data;
          else if (e.type === 'finished') run.status = `${e.status}${e.exitCode !== null && e.exitCode !== undefined ? ` (exit ${e.exitCode})` : ''}${e.reason ? `: ${e.reason}` : ''}`;
        });
      });
      onBeforeUnmount(() => socket?.disconnect());
      const start = async () => {
        try {
          run.output = '';
          run.status = 'sent';
          const c = await shell.api.post(`${API}/agents/${agentId}/commands`, { name: name.value });
          run.id = c.id;
        } catch (e) {
          run.status = '';
          shell.toast.error(e);
        }
      };
      return () => h('div', { class: 'mon-commands' }, [
        h('h3', 'Run a command'),
        h('form', { onSubmit: (e) => { e.preventDefault(); start(); } }, [
          h('select', { value: name.value, onChange: (e) => (name.value = e.target.value), 'aria-label': 'Command' }, [
            h('option', { value: '' }, '— allowlisted on the server —'),
            ...(agent.value.commands ?? []).map((c) => h('option', { value: c }, c)),
          ]),
          h('button', { type: 'submit', disabled: !name.value || agent.value.status !== 'online' }, 'Run'),
        ]),
        run.status ? h('p', { class: 'mon-command-status' }, run.status) : null,
        h('pre', { class: 'mon-command-output', 'aria-live': 'polite' }, run.output),
      ]);
    },
  };
}

// ───────────────────────── alert rules ─────────────────────────
function alertsPage(shell) {
  return {
    name: 'MonitoringAlerts',
    setup() {
      const rules = ref([]);
      const history = ref([]);
      const form = reactive({ name: '', metric: 'cpu_usage_percent', comparison: '>', threshold: 90, durationSeconds: 300, severity: 'warning', notify: '' });
      const load = async () => {
        rules.value = (await shell.api.get(`${API}/alert-rules`)).items;
        history.value = (await shell.api.get(`${API}/alerts?limit=50`)).items;
      };
      const offs = [shell.onEvent('monitoring.alert.*', () => void load())];
      onMounted(load);
      onBeforeUnmount(() => offs.forEach((off) => off()));
      const act = async (fn) => {
        try {
          await fn();
          await load();
        } catch (e) {
          shell.toast.error(e);
        }
      };
      const save = () => act(() => shell.api.post(`${API}/alert-rules`, {
        name: form.name, metric: form.metric, comparison: form.comparison, threshold: Number(form.threshold), durationSeconds: Number(form.durationSeconds),
        severity: form.severity, notify: form.notify.split(',').map((s) => s.trim()).filter(Boolean),
      }));
      const input = (key, attrs = {}) => h('input', { value: form[key], onInput: (e) => (form[key] = e.target.value), 'aria-label': key, ...attrs });
      const select = (key, options) => h('select', { value: form[key], onChange: (e) => (form[key] = e.target.value), 'aria-label': key }, options.map((o) => h('option', { value: o }, o)));
      return () => h('section', { class: 'mon-alerts', 'data-testid': 'monitoring-alerts' }, [
        h('h2', 'Alert rules'),
        h('table', [
          h('thead', h('tr', ['Name', 'Condition', 'Severity', 'Enabled', ''].map((c) => h('th', c)))),
          h('tbody', rules.value.map((r) => h('tr', { key: r.id }, [
            h('td', r.name), h('td', `${r.metric} ${r.comparison} ${r.threshold} for ${r.durationSeconds}s`), h('td', r.severity),
            h('td', h('input', { type: 'checkbox', checked: r.enabled, disabled: !shell.can('monitoring.manage'), onChange: (e) => act(() => shell.api.patch(`${API}/alert-rules/${r.id}`, { enabled: e.target.checked })) })),
            h('td', shell.can('monitoring.manage') ? h('button', { onClick: () => act(() => shell.api.delete(`${API}/alert-rules/${r.id}`)) }, 'Delete') : null),
          ]))),
        ]),
        shell.can('monitoring.manage') ? h('form', { class: 'mon-rule-form', onSubmit: (e) => { e.preventDefault(); save(); } }, [
          input('name', { placeholder: 'Name', required: true }), input('metric', { placeholder: 'Metric' }), select('comparison', ['>', '>=', '<', '<=']),
          input('threshold', { type: 'number', step: 'any' }), input('durationSeconds', { type: 'number', min: 0 }), select('severity', ['info', 'warning', 'critical']),
          input('notify', { placeholder: 'Mail to (comma-separated)' }), h('button', { type: 'submit' }, 'Add rule'),
        ]) : null,
        h('h3', 'History'),
        h('ul', history.value.map((a) => h('li', { key: a.id, 'data-state': a.state }, `${a.state.toUpperCase()} ${a.rule} on ${a.agent} — ${a.value ?? ''} (${new Date(a.firedAt ?? a.pendingSince).toLocaleString()}${a.resolvedAt ? ` → ${new Date(a.resolvedAt).toLocaleString()}` : ''})`))),
      ]);
    },
  };
}

// ───────────────────────── dashboard widget ─────────────────────────
function fleetWidget(shell) {
  return {
    name: 'MonitoringFleetHealth',
    setup() {
      const fleet = ref(null);
      const load = async () => {
        try {
          fleet.value = await shell.api.get(`${API}/fleet`);
        } catch {
          fleet.value = null;
        }
      };
      const offs = [shell.onEvent('monitoring.agent.*', () => void load()), shell.onEvent('monitoring.alert.*', () => void load())];
      onMounted(load);
      onBeforeUnmount(() => offs.forEach((off) => off()));
      return () => h('div', { class: 'mon-fleet', 'data-testid': 'monitoring-fleet' }, fleet.value ? [
        h('p', `${fleet.value.agents.online} of ${fleet.value.agents.total} servers online`),
        fleet.value.agents.offline ? h('p', { class: 'mon-offline' }, `${fleet.value.agents.offline} offline`) : null,
        h('p', Object.keys(fleet.value.firing).length ? Object.entries(fleet.value.firing).map(([s, n]) => `${n} ${s}`).join(', ') + ' alerts firing' : 'No alerts firing'),
      ] : h('p', '…'));
    },
  };
}

/** Called by the shell: registers pages, menu entries and the widget; returns the disposer. */
export function install(shell) {
  const removers = [
    shell.addRoute({ path: '/monitoring', component: agentsPage(shell), title: 'Monitoring', permission: 'monitoring.read' }),
    shell.addRoute({ path: '/monitoring/agents/:id', component: agentDashboard(shell), title: 'Server', permission: 'monitoring.read' }),
    shell.addRoute({ path: '/monitoring/alerts', component: alertsPage(shell), title: 'Alert rules', permission: 'monitoring.read' }),
    shell.addMenuItem({ id: 'monitoring', label: 'Monitoring', path: '/monitoring', icon: 'activity', permission: 'monitoring.read' }),
    shell.addMenuItem({ id: 'monitoring-alerts', label: 'Alerts', path: '/monitoring/alerts', icon: 'bell', permission: 'monitoring.read', order: 1 }),
    shell.addWidget({ id: 'fleet-health', title: 'Fleet health', component: fleetWidget(shell), size: 'small', permission: 'monitoring.read' }),
  ];
  return () => {
    for (const remove of removers.reverse()) remove();
    document.querySelectorAll('link[data-plugin="monitoring"]').forEach((l) => l.remove());
    uplotPromise = null;
  };
}
