// The Hello plugin's UI module: a prebuilt ES module the shell loads at run
// time. `vue` is provided by the shell's import map (one shared copy).
import { h, ref, onMounted } from 'vue';

const GreetingsPanel = {
  name: 'HelloGreetings',
  props: { api: { type: Object, required: true } },
  setup(props) {
    const greetings = ref([]);
    const message = ref('');
    const error = ref(null);
    const load = async () => {
      greetings.value = await props.api.get('/api/v1/p/hello/greetings');
    };
    const add = async () => {
      error.value = null;
      try {
        await props.api.post('/api/v1/p/hello/greetings', { message: message.value });
        message.value = '';
        await load();
      } catch (e) {
        error.value = e.message;
      }
    };
    onMounted(load);
    return () =>
      h('section', { class: 'hello-panel', 'data-testid': 'hello-panel' }, [
        h('h2', 'Greetings'),
        h('form', { onSubmit: (e) => { e.preventDefault(); add(); } }, [
          h('input', { value: message.value, onInput: (e) => (message.value = e.target.value), 'aria-label': 'Greeting', placeholder: 'Say hello' }),
          h('button', { type: 'submit' }, 'Add'),
        ]),
        error.value ? h('p', { role: 'alert' }, error.value) : null,
        h('ul', greetings.value.map((g) => h('li', { key: g.id }, g.message))),
      ]);
  },
};

/** Called by the shell: register routes and menu entries, return a disposer. */
export function install(shell) {
  const removeRoute = shell.addRoute({ path: '/hello', component: GreetingsPanel });
  const removeMenu = shell.addMenuItem({ id: 'hello', label: 'Hello', path: '/hello' });
  return () => {
    removeMenu();
    removeRoute();
  };
}
