// The plugin's UI: a prebuilt ES module the panel's shell loads at run time
// (package.json `mpanel.ui`). `vue` is not bundled: the shell's import map
// provides its own copy, shared by every plugin.
import { h, ref, onMounted } from 'vue';

const API = '/api/v1/p/{{id}}/items';

/** The panel, built with the shell it runs in (`shell.api` calls the panel API with the user's session). */
const itemsPanel = (shell) => ({
  name: 'ItemsPanel',
  setup() {
    const items = ref([]);
    const name = ref('');
    const error = ref(null);
    const load = async () => {
      items.value = await shell.api.get(API);
    };
    const add = async () => {
      error.value = null;
      try {
        await shell.api.post(API, { name: name.value });
        name.value = '';
        await load();
      } catch (e) {
        error.value = e.message;
      }
    };
    onMounted(load);
    return () =>
      h('section', { 'data-testid': '{{id}}-panel' }, [
        h('h2', '{{displayName}}'),
        h('form', { onSubmit: (e) => { e.preventDefault(); add(); } }, [
          h('input', { value: name.value, onInput: (e) => (name.value = e.target.value), 'aria-label': 'Name', placeholder: 'New item' }),
          h('button', { type: 'submit' }, 'Add'),
        ]),
        error.value ? h('p', { role: 'alert' }, error.value) : null,
        h('ul', items.value.map((i) => h('li', { key: i.id }, i.name))),
      ]);
  },
});

/** Called by the shell when the plugin is enabled; the returned function undoes it on disable. */
export function install(shell) {
  const removeRoute = shell.addRoute({ path: '/{{id}}', component: itemsPanel(shell) });
  const removeMenu = shell.addMenuItem({ id: '{{id}}', label: '{{displayName}}', path: '/{{id}}' });
  return () => {
    removeMenu();
    removeRoute();
  };
}
