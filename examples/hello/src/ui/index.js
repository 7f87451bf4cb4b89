// The Hello plugin's UI module: a prebuilt ES module the shell loads at run
// time with import(). `vue` and `@mpanel/sdk/ui` (the UI kit) are resolved by
// the shell's import map to the shell's own copies — one Vue for everyone.
// The contract is `PluginShell` in @mpanel/sdk (src/ui.ts).
import { h, ref, onMounted, onBeforeUnmount } from 'vue';
import { MpButton, MpEmptyState, MpSkeleton, MpPageHeader } from '@mpanel/sdk/ui';

/** Registers the Greetings page, its menu entry and a dashboard widget; returns the disposer. */
export function install(shell) {
  const greetings = ref(null);
  const load = async () => {
    greetings.value = await shell.api.get('/api/v1/p/hello/greetings');
  };

  const GreetingsPanel = {
    name: 'HelloGreetings',
    setup() {
      const message = ref('');
      const busy = ref(false);
      const add = async () => {
        busy.value = true;
        try {
          await shell.api.post('/api/v1/p/hello/greetings', { message: message.value });
          message.value = '';
          shell.toast.success('Greeting added');
          await load();
        } catch (e) {
          shell.toast.error(e);
        } finally {
          busy.value = false;
        }
      };
      // Someone else greeted (another tab, another user of the tenant): refresh.
      const stop = shell.onEvent('hello.greeting.created', () => void load());
      onBeforeUnmount(stop);
      onMounted(() => load().catch((e) => shell.toast.error(e)));
      return () =>
        h('section', { class: 'hello-panel', 'data-testid': 'hello-panel' }, [
          h(MpPageHeader, { title: 'Greetings', subtitle: 'Leave a greeting for your tenant.' }),
          shell.can('hello.write')
            ? h('form', { class: 'mp-toolbar', onSubmit: (e) => { e.preventDefault(); void add(); } }, [
                h('input', { value: message.value, onInput: (e) => (message.value = e.target.value), 'aria-label': 'Greeting', placeholder: 'Say hello' }),
                h(MpButton, { type: 'submit', variant: 'primary', busy: busy.value }, () => 'Add'),
              ])
            : null,
          greetings.value === null
            ? h(MpSkeleton, { lines: 3 })
            : greetings.value.length === 0
              ? h(MpEmptyState, { title: 'No greetings yet' })
              : h('ul', { class: 'hello-list' }, greetings.value.map((g) => h('li', { key: g.id }, g.message))),
        ]);
    },
  };

  const LatestGreeting = {
    name: 'HelloLatestGreeting',
    setup() {
      onMounted(() => load().catch(() => undefined));
      return () => h('p', { 'data-testid': 'hello-widget' }, greetings.value?.[0]?.message ?? 'Nobody has said hello yet.');
    },
  };

  const removers = [
    shell.addRoute({ path: '/hello', component: GreetingsPanel, title: 'Greetings', permission: 'hello.read' }),
    shell.addMenuItem({ id: 'hello', label: 'Hello', path: '/hello', permission: 'hello.read' }),
    shell.addWidget({ id: 'latest-greeting', title: 'Latest greeting', component: LatestGreeting, size: 'small', permission: 'hello.read' }),
  ];
  return () => {
    for (const remove of removers) remove();
  };
}
