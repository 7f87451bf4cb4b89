// UI module of the two-factor login plugin: a prebuilt ES module the shell
// loads at run time (`vue` comes from the shell's import map, one shared copy).
// It contributes, through the SDK's PluginShell contract (sdk/src/ui.ts):
//   - login steps for the factors the server asks for: `totp` (code or backup
//     code) and `totp-enrol` (set-up at login for users under a role policy);
//   - a "Two-factor login" section of the account/security page: enrolment
//     wizard with QR code, backup codes (shown once, downloadable as text),
//     turn off, trusted devices;
//   - a dashboard widget with the state, which also hands out the first backup
//     codes after an enrolment at login.
import { h, ref, reactive, onMounted, computed } from 'vue';

const API = '/api/v1/p/twofactor';

const message = (e) => (e && (e.detail || e.message)) || String(e);

function field(label, input) {
  return h('label', { class: 'mp-field' }, [h('span', { class: 'mp-field-label' }, label), input]);
}

function codeInput(model, attrs = {}) {
  return h('input', {
    value: model.value,
    onInput: (e) => (model.value = e.target.value),
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    pattern: '[0-9 ]{6,7}',
    maxlength: 7,
    required: true,
    'aria-label': 'Six-digit code',
    'data-testid': 'twofactor-code',
    ...attrs,
  });
}

function trustBox(model, days) {
  if (!days) return null;
  return h('label', { class: 'mp-check' }, [
    h('input', { type: 'checkbox', checked: model.value, onChange: (e) => (model.value = e.target.checked), 'data-testid': 'twofactor-trust' }),
    ` Trust this device for ${days} day${days === 1 ? '' : 's'}`,
  ]);
}

function downloadText(text, name = 'mpanel-backup-codes.txt') {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

/** Backup codes, shown once: a list, a download button and a reminder. */
const BackupCodes = {
  name: 'TwofactorBackupCodes',
  props: { codes: { type: Array, required: true }, text: { type: String, required: true } },
  emits: ['done'],
  setup(props, { emit }) {
    return () =>
      h('div', { class: 'twofactor-backup-codes', 'data-testid': 'twofactor-backup-codes' }, [
        h('p', 'Save these backup codes now — they are shown only once. Each one logs you in once if your phone is not at hand.'),
        h('ol', { style: 'font-family: monospace; columns: 2; margin: 0.5rem 0 1rem' }, props.codes.map((c) => h('li', { key: c }, c))),
        h('div', { class: 'mp-form-actions' }, [
          h('button', { type: 'button', class: 'mp-btn', onClick: () => downloadText(props.text), 'data-testid': 'twofactor-download' }, 'Download as text'),
          h('button', { type: 'button', class: 'mp-btn mp-btn-primary', onClick: () => emit('done') }, 'I have saved them'),
        ]),
      ]);
  },
};

/** What an authenticator app needs: the QR code, and the secret for typing it in. */
function provisioningView(p) {
  return h('div', { class: 'twofactor-provisioning' }, [
    h('img', { src: p.qrDataUrl, alt: 'QR code to scan with your authenticator app', width: 200, height: 200, 'data-testid': 'twofactor-qr' }),
    h('p', { class: 'mp-muted' }, ['Cannot scan? Enter this key in the app (time-based, 6 digits): ']),
    h('p', [h('code', { 'data-testid': 'twofactor-secret', style: 'word-break: break-all; user-select: all' }, p.secret)]),
  ]);
}

/** Login step `totp`: a code from the app, or a backup code. */
const TotpLoginStep = {
  name: 'TwofactorLoginStep',
  props: { factor: String, hints: { type: Object, default: () => ({}) }, submit: { type: Function, required: true } },
  setup(props) {
    const code = ref('');
    const backup = ref(false);
    const trust = ref(false);
    const busy = ref(false);
    const send = async () => {
      busy.value = true;
      try {
        const answer = backup.value ? { backupCode: code.value } : { code: code.value };
        await props.submit({ ...answer, ...(trust.value ? { trustDevice: true } : {}) });
      } catch {
        // The shell shows the server's answer; let the user try again.
        code.value = '';
      } finally {
        busy.value = false;
      }
    };
    return () =>
      h('form', { class: 'mp-form', 'data-testid': 'twofactor-login', onSubmit: (e) => { e.preventDefault(); send(); } }, [
        backup.value
          ? field('Backup code', h('input', { value: code.value, onInput: (e) => (code.value = e.target.value), autocomplete: 'off', required: true, 'data-testid': 'twofactor-backup-code' }))
          : field('6-digit code', codeInput(code, { autofocus: true })),
        trustBox(trust, props.hints.trustDeviceDays),
        h('div', { class: 'mp-form-actions' }, [
          h('button', { type: 'submit', class: 'mp-btn mp-btn-primary', disabled: busy.value, 'data-testid': 'twofactor-submit' }, 'Verify'),
          props.hints.backupCodes !== false
            ? h('button', { type: 'button', class: 'mp-btn mp-btn-ghost', onClick: () => { backup.value = !backup.value; code.value = ''; } },
                backup.value ? 'Use the authenticator app' : 'Use a backup code')
            : null,
        ]),
      ]);
  },
};

/** Login step `totp-enrol`: the user's role requires two-factor login and they have none yet. */
const EnrolLoginStep = {
  name: 'TwofactorEnrolLoginStep',
  props: { factor: String, hints: { type: Object, default: () => ({}) }, submit: { type: Function, required: true } },
  setup(props) {
    const code = ref('');
    const trust = ref(false);
    const busy = ref(false);
    const send = async () => {
      busy.value = true;
      try {
        await props.submit({ code: code.value, ...(trust.value ? { trustDevice: true } : {}) });
        // Logged in: the first backup codes wait on the dashboard widget and the security page.
      } catch {
        code.value = '';
      } finally {
        busy.value = false;
      }
    };
    return () =>
      h('form', { class: 'mp-form', 'data-testid': 'twofactor-enrol-login', onSubmit: (e) => { e.preventDefault(); send(); } }, [
        h('p', props.hints.reason || 'Set up two-factor login to continue.'),
        h('ol', [
          h('li', 'Scan the QR code with an authenticator app (or type in the key).'),
          h('li', 'Enter the 6-digit code it shows.'),
        ]),
        provisioningView(props.hints),
        field('Code from your authenticator app', codeInput(code)),
        trustBox(trust, props.hints.trustDeviceDays),
        h('div', { class: 'mp-form-actions' }, [
          h('button', { type: 'submit', class: 'mp-btn mp-btn-primary', disabled: busy.value, 'data-testid': 'twofactor-submit' }, 'Turn on and log in'),
        ]),
      ]);
  },
};

const when = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

/** The account page's section (and, compact, the dashboard widget). */
function makeSecuritySection(shell, { compact = false } = {}) {
  return {
    name: compact ? 'TwofactorWidget' : 'TwofactorSecuritySection',
    setup() {
      const status = ref(null);
      const error = ref(null);
      const busy = ref(false);
      /** idle | enrol | codes | disable | regenerate */
      const mode = ref('idle');
      const enrolment = ref(null);
      const codes = ref(null);
      const form = reactive({ code: '', backup: false });
      const codeModel = computed({ get: () => form.code, set: (v) => (form.code = v) });

      const load = async () => {
        try {
          status.value = await shell.api.get(`${API}/status`);
          error.value = null;
        } catch (e) {
          error.value = message(e);
        }
      };
      onMounted(load);
      const run = async (fn) => {
        busy.value = true;
        error.value = null;
        try {
          await fn();
        } catch (e) {
          error.value = message(e);
        } finally {
          busy.value = false;
        }
      };
      const reset = () => {
        mode.value = 'idle';
        form.code = '';
        form.backup = false;
      };
      const answer = () => (form.backup ? { backupCode: form.code } : { code: form.code });

      const startEnrolment = () => run(async () => {
        enrolment.value = await shell.api.post(`${API}/enrolment`);
        form.code = '';
        mode.value = 'enrol';
      });
      const confirmEnrolment = () => run(async () => {
        codes.value = await shell.api.post(`${API}/enrolment/confirm`, { code: form.code });
        enrolment.value = null;
        mode.value = 'codes';
        shell.toast.success('Two-factor login is on');
        await load();
      });
      const firstCodes = () => run(async () => {
        codes.value = await shell.api.post(`${API}/backup-codes`, {});
        mode.value = 'codes';
        await load();
      });
      const regenerate = () => run(async () => {
        codes.value = await shell.api.post(`${API}/backup-codes`, answer());
        form.code = '';
        mode.value = 'codes';
        await load();
      });
      const disable = () => run(async () => {
        await shell.api.post(`${API}/disable`, answer());
        reset();
        shell.toast.success('Two-factor login is off');
        await load();
      });
      const forget = (id) => run(async () => {
        if (id) await shell.api.delete(`${API}/trusted-devices/${id}`);
        else await shell.api.delete(`${API}/trusted-devices`);
        await load();
      });

      const codeForm = (label, onSubmit, allowBackup) =>
        h('form', { class: 'mp-form', onSubmit: (e) => { e.preventDefault(); onSubmit(); } }, [
          form.backup
            ? field('Backup code', h('input', { value: form.code, onInput: (e) => (form.code = e.target.value), required: true, 'data-testid': 'twofactor-backup-code' }))
            : field('Current code from your authenticator app', codeInput(codeModel)),
          h('div', { class: 'mp-form-actions' }, [
            h('button', { type: 'submit', class: 'mp-btn mp-btn-primary', disabled: busy.value, 'data-testid': 'twofactor-confirm' }, label),
            allowBackup
              ? h('button', { type: 'button', class: 'mp-btn mp-btn-ghost', onClick: () => { form.backup = !form.backup; form.code = ''; } }, form.backup ? 'Use the app instead' : 'Use a backup code')
              : null,
            h('button', { type: 'button', class: 'mp-btn mp-btn-ghost', onClick: reset }, 'Cancel'),
          ]),
        ]);

      return () => {
        const s = status.value;
        const alert = error.value ? h('p', { class: 'mp-field-error', role: 'alert', 'data-testid': 'twofactor-error' }, error.value) : null;
        if (!s) return h('div', { 'data-testid': 'twofactor-section' }, [alert || h('p', { class: 'mp-muted' }, 'Loading…')]);

        if (mode.value === 'codes' && codes.value) {
          return h('div', { 'data-testid': 'twofactor-section' }, [
            h(BackupCodes, { codes: codes.value.backupCodes, text: codes.value.text, onDone: () => { codes.value = null; reset(); } }),
          ]);
        }

        if (mode.value === 'enrol' && enrolment.value) {
          return h('div', { 'data-testid': 'twofactor-section' }, [
            h('p', 'Scan the QR code with an authenticator app, then enter the code it shows.'),
            provisioningView(enrolment.value),
            codeForm('Turn on', confirmEnrolment, false),
            alert,
          ]);
        }

        if (!s.enabled) {
          return h('div', { 'data-testid': 'twofactor-section' }, [
            h('p', { 'data-testid': 'twofactor-state' }, s.required
              ? 'Two-factor login is off, but your role requires it: you will be asked to set it up at your next login.'
              : 'Two-factor login is off. Turn it on to be asked for a code from your phone after the password.'),
            h('button', { type: 'button', class: 'mp-btn mp-btn-primary', disabled: busy.value, onClick: startEnrolment, 'data-testid': 'twofactor-enable' }, 'Turn on two-factor login'),
            alert,
          ]);
        }

        const summary = h('ul', { class: 'mp-muted', 'data-testid': 'twofactor-state' }, [
          h('li', `On since ${when(s.enabledAt)}${s.required ? ' (required for your role)' : ''}`),
          h('li', `Last used ${when(s.lastUsedAt)}`),
          h('li', `${s.backupCodes.remaining} backup code${s.backupCodes.remaining === 1 ? '' : 's'} left`),
        ]);
        const pending = s.backupCodes.initialPending
          ? h('div', { class: 'mp-card', role: 'status' }, [
              h('p', 'Two-factor login was just set up. Get your backup codes now, in case you lose your phone.'),
              h('button', { type: 'button', class: 'mp-btn mp-btn-primary', disabled: busy.value, onClick: firstCodes, 'data-testid': 'twofactor-first-codes' }, 'Show my backup codes'),
            ])
          : null;
        if (compact) return h('div', { 'data-testid': 'twofactor-widget' }, [summary, pending, alert]);

        let action;
        if (mode.value === 'disable') action = codeForm('Turn off', disable, true);
        else if (mode.value === 'regenerate') action = codeForm('Get new backup codes', regenerate, true);
        else {
          action = h('div', { class: 'mp-form-actions' }, [
            h('button', { type: 'button', class: 'mp-btn', onClick: () => (mode.value = 'regenerate'), 'data-testid': 'twofactor-regenerate' }, 'New backup codes'),
            s.required ? null : h('button', { type: 'button', class: 'mp-btn mp-btn-danger', onClick: () => (mode.value = 'disable'), 'data-testid': 'twofactor-disable' }, 'Turn off'),
          ]);
        }
        const devices = s.trustedDevices.length
          ? h('div', [
              h('h4', 'Trusted devices'),
              h('ul', s.trustedDevices.map((d) =>
                h('li', { key: d.id }, [
                  `${d.userAgent || 'Unknown browser'} — trusted until ${when(d.expiresAt)}, last used ${when(d.lastUsedAt)} `,
                  h('button', { type: 'button', class: 'mp-btn mp-btn-ghost', onClick: () => forget(d.id) }, 'Forget'),
                ]))),
              h('button', { type: 'button', class: 'mp-btn mp-btn-ghost', onClick: () => forget(null) }, 'Forget all devices'),
            ])
          : null;
        return h('div', { 'data-testid': 'twofactor-section' }, [summary, pending, action, devices, alert]);
      };
    },
  };
}

/** Called by the shell: registers the login steps, the account section and the widget; returns a disposer. */
export function install(shell) {
  const removers = [
    shell.addLoginStep({ factor: 'totp', component: TotpLoginStep }),
    shell.addLoginStep({ factor: 'totp-enrol', component: EnrolLoginStep }),
    shell.addAccountSection({ id: 'twofactor', title: 'Two-factor login', component: makeSecuritySection(shell), order: 20 }),
    shell.addWidget({ id: 'twofactor', title: 'Two-factor login', component: makeSecuritySection(shell, { compact: true }), size: 'small' }),
  ];
  return () => {
    for (const remove of removers) remove();
  };
}
