// The Monitoring plugin's UI module: a plain ES module the shell loads at run
// time. `vue` comes from the shell's import map. uPlot and the socket.io
// browser client are loaded lazily from ./vendor only when a dashboard opens,
// so they never weigh on the shell.
import { h, ref, reactive, onMounted, onBeforeUnmount, watch } from 'vue';
import { RouterLink, useRoute } from 'vue-router';

const API = '/api/v1/p/monitoring';

/** Runs an action, then reloads the view; a failure becomes the server's problem message in a toast. */
const reloadingAction = (shell, load) => async (fn) => {
  try {
    await fn();
    await load();
  } catch (e) {
    shell.toast.error(e);
  }
};
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

/**
 * The live namespace for one agent: a socket authenticated with a short-lived
 * ticket (fetched again on every (re)connection — a ticket only lives 60 s, so
 * reusing the first one would make every reconnection after a minute fail),
 * subscribed to the agent on every connect. One per dashboard; its parts
 * (charts, command runner) add listeners with `on`.
 */
function liveChannel(api, agentId) {
  const listeners = new Map();
  const state = reactive({ subscribed: false });
  let socket = null;
  let closed = false;
  let resolveSubscribed;
  const subscribedOnce = new Promise((r) => (resolveSubscribed = r));
  const ready = import(/* @vite-ignore */ vendor('socket.io.esm.min.js')).then(({ io }) => {
    if (closed) return;
    socket = io('/p/monitoring/live', {
      auth: (cb) => api.get(`${API}/live-ticket`).then((t) => cb({ ticket: t.ticket }), () => cb({})),
      transports: ['websocket'],
    });
    socket.on('connect', () => socket.emit('subscribe', { agentId }, (res) => {
      state.subscribed = !!res?.ok;
      if (res?.ok) resolveSubscribed();
    }));
    socket.on('disconnect', () => (state.subscribed = false));
    for (const [event, set] of listeners) for (const fn of set) socket.on(event, fn);
  });
  return {
    state,
    ready,
    /** Resolves once subscribed (or after `ms`, whichever is first). */
    subscribed: (ms = 5000) => Promise.race([subscribedOnce, new Promise((r) => setTimeout(r, ms))]),
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(fn);
      socket?.on(event, fn);
      return () => {
        listeners.get(event)?.delete(fn);
        socket?.off(event, fn);
      };
    },
    close() {
      closed = true;
      socket?.disconnect();
    },
  };
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
      const act = reloadingAction(shell, load);
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
        h('table', { 'data-testid': 'monitoring-agent-list' }, [
          h('thead', h('tr', ['Name', 'Host', 'Status', 'Last seen', ''].map((c) => h('th', c)))),
          h('tbody', agents.value.map((a) => h('tr', { key: a.id, 'data-agent-id': a.id }, [
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

/** Whether a metric name is one of a chart's (exact names or `prefix*`). */
const matches = (patterns, name) => patterns.some((m) => (m.endsWith('*') ? name.startsWith(m.slice(0, -1)) : name === m));

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
      // Point counts and the time of the newest point per chart (shown, and readable by tests).
      const stats = reactive({ points: CHARTS.map(() => 0), updated: CHARTS.map(() => null) });
      const plots = [];
      const datasets = [];
      let uPlot = null;
      let unmounted = false;
      let loading = 0;
      const live = liveChannel(shell.api, id);
      const draw = (c) => {
        plots[c]?.destroy();
        plots[c] = null;
        if (els[c].value && datasets[c]) plots[c] = chart(uPlot, els[c].value, CHARTS[c], datasets[c]);
        const d = datasets[c];
        stats.points[c] = d ? d.x.length : 0;
        stats.updated[c] = d?.x.length ? d.x[d.x.length - 1] * 1000 : null;
      };
      const load = async () => {
        const mine = ++loading;
        agent.value = await shell.api.get(`${API}/agents/${id}`);
        uPlot = await loadUplot();
        const from = new Date(Date.now() - RANGES[range.value]).toISOString();
        const results = await Promise.all(CHARTS.map((spec) => shell.api.get(`${API}/agents/${id}/series?metrics=${encodeURIComponent(spec.metrics.join(','))}&from=${from}`)));
        if (mine !== loading || unmounted) return; // a newer range was picked meanwhile
        results.forEach((res, c) => {
          resolution.value = res.resolution;
          const xs = [...new Set(res.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
          const index = new Map(xs.map((x, i) => [x, i]));
          const ys = res.series.map((s) => {
            const col = new Array(xs.length).fill(null);
            for (const p of s.points) col[index.get(p[0])] = p[1];
            return col;
          });
          datasets[c] = { names: res.series.map((s) => s.metric), x: xs.map((x) => x / 1000), ys };
          draw(c);
        });
      };
      const onSample = (s) => {
        if (s.agentId !== id || !['15m', '1h'].includes(range.value) || !uPlot) return;
        const t = s.ts / 1000;
        datasets.forEach((d, c) => {
          if (!d) return;
          if (d.x.length && t <= d.x[d.x.length - 1]) return; // already loaded (the query raced the live stream)
          // Series the range query didn't know yet (a new agent, a new interface or disk) join the chart.
          const added = Object.keys(s.metrics).filter((n) => matches(CHARTS[c].metrics, n) && !d.names.includes(n)).sort();
          for (const n of added) {
            d.names.push(n);
            d.ys.push(new Array(d.x.length).fill(null));
          }
          d.x.push(t);
          d.names.forEach((n, i) => d.ys[i].push(s.metrics[n] ?? null));
          if (d.x.length > MAX_LIVE_POINTS) {
            d.x.shift();
            d.ys.forEach((y) => y.shift());
          }
          if (added.length || !plots[c]) draw(c);
          else {
            plots[c].setData([d.x, ...d.ys]);
            stats.points[c] = d.x.length;
            stats.updated[c] = s.ts;
          }
        });
      };
      const offs = [
        live.on('sample', onSample),
        // The header's status (and whether "Run" is possible) follows the agent live.
        shell.onEvent('monitoring.agent.*', (e) => {
          if (e.payload.agentId !== id || !agent.value) return;
          if (e.type === 'monitoring.agent.online') agent.value.status = 'online';
          else if (e.type === 'monitoring.agent.offline') agent.value.status = 'offline';
          else if (e.type === 'monitoring.agent.revoked') agent.value.status = 'revoked';
        }),
      ];
      onMounted(async () => {
        try {
          await load();
          await live.ready;
        } catch (e) {
          shell.toast.error(e);
        }
      });
      watch(range, () => load().catch((e) => shell.toast.error(e)));
      onBeforeUnmount(() => {
        unmounted = true;
        offs.forEach((off) => off());
        live.close();
        plots.forEach((p) => p?.destroy());
      });
      // Made once: a component object made in the render function would be a new
      // component type on every re-render, remounting the runner (and losing its output).
      const runner = commandRunner(shell, id, agent, live);
      return () => h('section', { class: 'mon-dashboard', 'data-testid': 'monitoring-dashboard' }, [
        h('h2', [agent.value?.name ?? '…', ' ', agent.value ? statusBadge(agent.value.status) : null]),
        h('div', { class: 'mon-ranges' }, [
          ...Object.keys(RANGES).map((r) => h('button', { 'aria-pressed': range.value === r, onClick: () => (range.value = r) }, r)),
          h('span', { class: 'mon-resolution' }, resolution.value ? ` resolution: ${resolution.value}` : ''),
          h('span', { class: 'mon-live', 'data-testid': 'monitoring-live', 'data-live': String(live.state.subscribed) }, live.state.subscribed ? ' · live' : ''),
        ]),
        ...CHARTS.map((spec, c) => h('figure', { class: 'mon-chart', 'data-points': stats.points[c], 'data-updated': stats.updated[c] ?? '' }, [
          h('figcaption', [spec.title, h('small', { class: 'mon-updated' }, stats.updated[c] ? ` — ${stats.points[c]} points, last ${new Date(stats.updated[c]).toLocaleTimeString()}` : ' — no data yet')]),
          h('div', { ref: els[c] }),
        ])),
        shell.can('monitoring.command') && agent.value ? h(runner) : null,
      ]);
    },
  };
}

// ───────────────────────── command runner ─────────────────────────
const FINAL = new Set(['succeeded', 'failed', 'timeout', 'refused', 'lost']);
const describeStatus = (c) => `${c.status}${c.exitCode !== null && c.exitCode !== undefined ? ` (exit ${c.exitCode})` : ''}${(c.reason ?? c.refusedReason) ? `: ${c.reason ?? c.refusedReason}` : ''}`;

function commandRunner(shell, agentId, agent, live) {
  return {
    name: 'MonitoringCommandRunner',
    setup() {
      const name = ref('');
      const run = reactive({ id: null, output: '', status: '' });
      // Events of a command that arrive before its POST answered (a fast command
      // can finish before that) wait here until the id is known.
      const early = new Map();
      const apply = (e) => {
        if (e.type === 'output') run.output += e.data;
        else if (e.type === 'finished') {
          run.status = describeStatus(e);
          // The stored output is authoritative (covers anything sent while the socket was reconnecting).
          const id = run.id;
          shell.api.get(`${API}/commands/${id}`).then((c) => {
            if (run.id === id && typeof c.output === 'string' && c.output.length > run.output.length) run.output = c.output;
          }, () => undefined);
        }
      };
      const off = live.on('command', (e) => {
        if (run.id && e.commandId === run.id) return apply(e);
        if (!run.id && run.status === 'sent') {
          if (!early.has(e.commandId)) early.set(e.commandId, []);
          early.get(e.commandId).push(e);
        }
      });
      onBeforeUnmount(off);
      const start = async () => {
        try {
          run.id = null;
          run.output = '';
          run.status = 'sent';
          early.clear();
          await live.subscribed();
          const c = await shell.api.post(`${API}/agents/${agentId}/commands`, { name: name.value });
          run.id = c.id;
          for (const e of early.get(c.id) ?? []) apply(e);
          early.clear();
          if (FINAL.has(c.status)) run.status = describeStatus(c);
        } catch (e) {
          run.status = '';
          shell.toast.error(e);
        }
      };
      return () => h('div', { class: 'mon-commands', 'data-testid': 'monitoring-commands' }, [
        h('h3', 'Run a command'),
        h('form', { onSubmit: (e) => { e.preventDefault(); start(); } }, [
          h('select', { value: name.value, onChange: (e) => (name.value = e.target.value), 'aria-label': 'Command' }, [
            h('option', { value: '' }, '— allowlisted on the server —'),
            ...(agent.value.commands ?? []).map((c) => h('option', { value: c }, c)),
          ]),
          h('button', { type: 'submit', disabled: !name.value || agent.value.status !== 'online' || run.status === 'sent' }, 'Run'),
        ]),
        run.status ? h('p', { class: 'mon-command-status', 'data-testid': 'monitoring-command-status' }, run.status) : null,
        h('pre', { class: 'mon-command-output', 'data-testid': 'monitoring-command-output', 'aria-live': 'polite' }, run.output),
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
      const act = reloadingAction(shell, load);
      const save = () => act(async () => {
        const r = await shell.api.post(`${API}/alert-rules`, {
          name: form.name, metric: form.metric.trim(), comparison: form.comparison, threshold: Number(form.threshold), durationSeconds: Number(form.durationSeconds),
          severity: form.severity, notify: form.notify.split(',').map((s) => s.trim()).filter(Boolean),
        });
        form.name = '';
        shell.toast.success(`Rule "${r.name}" added`);
      });
      const LABELS = { name: 'Rule name', metric: 'Metric', comparison: 'Comparison', threshold: 'Threshold', durationSeconds: 'For (seconds)', severity: 'Severity', notify: 'Mail to' };
      const input = (key, attrs = {}) => h('input', { value: form[key], onInput: (e) => (form[key] = e.target.value), 'aria-label': LABELS[key], title: LABELS[key], ...attrs });
      const select = (key, options) => h('select', { value: form[key], onChange: (e) => (form[key] = e.target.value), 'aria-label': LABELS[key], title: LABELS[key] }, options.map((o) => h('option', { value: o }, o)));
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
