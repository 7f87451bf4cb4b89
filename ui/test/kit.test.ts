// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { nextTick } from 'vue';
import MpDataTable from '../src/kit/MpDataTable.vue';
import MpSchemaForm from '../src/kit/MpSchemaForm.vue';
import MpErrorBoundary from '../src/kit/MpErrorBoundary.vue';
import MpConfirmDanger from '../src/kit/MpConfirmDanger.vue';
import { fieldsOf, fromFormState, toFormState } from '../src/kit/schema-form';
import { ApiError } from '../src/api/client';

const rows = Array.from({ length: 25 }, (_, i) => ({ id: `r${i}`, name: `name-${String(25 - i).padStart(2, '0')}`, n: i }));
const columns = [
  { key: 'name', label: 'Name', sortable: true },
  { key: 'n', label: 'N', sortable: true },
];

describe('MpDataTable', () => {
  it('pages and sorts', async () => {
    const w = mount(MpDataTable, { props: { columns, rows, pageSize: 10 } });
    expect(w.findAll('tbody tr')).toHaveLength(10);
    expect(w.text()).toContain('Page 1 of 3');
    await w.findAll('nav button').find((b) => b.text() === 'Next')!.trigger('click');
    expect(w.text()).toContain('Page 2 of 3');
    expect(w.find('tbody tr td').text()).toBe('name-15');
    await w.find('th button').trigger('click'); // sort by name ascending
    await w.findAll('nav button').find((b) => b.text() === 'Previous')!.trigger('click');
    expect(w.find('tbody tr td').text()).toBe('name-01');
    expect(w.find('th').attributes('aria-sort')).toBe('ascending');
    await w.find('th button').trigger('click');
    expect(w.find('tbody tr td').text()).toBe('name-25');
  });

  it('shows a skeleton, an empty state and the server’s error', async () => {
    const w = mount(MpDataTable, { props: { columns, rows: [], loading: true } });
    expect(w.find('[aria-label="Loading"]').exists()).toBe(true);
    await w.setProps({ loading: false, emptyTitle: 'No users' });
    expect(w.find('[data-testid="empty-state"]').text()).toContain('No users');
    await w.setProps({ error: new ApiError(403, { code: 'forbidden', detail: 'You may not see users' }, 'x') });
    expect(w.find('[data-testid="error-state"]').text()).toContain('You may not see users');
    await w.find('[data-testid="error-state"] button').trigger('click');
    expect(w.emitted('retry')).toHaveLength(1);
  });
});

describe('forms from JSON Schema', () => {
  const schema = {
    type: 'object',
    required: ['greeting'],
    properties: {
      greeting: { type: 'string', title: 'Greeting word', minLength: 1, maxLength: 5, default: 'Hello' },
      maxLength: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
      loud: { type: 'boolean' },
      mode: { enum: ['a', 'b'] },
      tags: { type: 'array', items: { type: 'string' } },
      apiSecret: { type: 'string' },
    },
  };

  it('derives fields and checks values like the server', () => {
    const fields = fieldsOf(schema);
    expect(fields.map((f) => [f.name, f.kind])).toEqual([['greeting', 'text'], ['maxLength', 'integer'], ['loud', 'boolean'], ['mode', 'select'], ['tags', 'list'], ['apiSecret', 'password']]);
    const state = toFormState(fields, {});
    expect(state.greeting).toBe('Hello');
    expect(fromFormState(fields, { ...state, maxLength: '1.5', greeting: 'toolong' }).errors).toEqual({ greeting: 'must have at most 5 characters', maxLength: 'must be a whole number' });
    expect(fromFormState(fields, { ...state, tags: 'a, b\nc', mode: 'b' }).values).toEqual({ greeting: 'Hello', maxLength: 200, loud: false, mode: 'b', tags: ['a', 'b', 'c'] });
  });

  it('MpSchemaForm submits checked values and shows errors', async () => {
    const w = mount(MpSchemaForm, { props: { schema, values: { greeting: 'Hi', maxLength: 5 } } });
    expect((w.find('input[name="greeting"]').element as HTMLInputElement).value).toBe('Hi');
    await w.find('input[name="greeting"]').setValue('');
    await w.find('form').trigger('submit');
    expect(w.emitted('submit')).toBeUndefined();
    expect(w.text()).toContain('is required');
    await w.find('input[name="greeting"]').setValue('Yo');
    await w.find('form').trigger('submit');
    expect(w.emitted('submit')![0]![0]).toMatchObject({ greeting: 'Yo', maxLength: 5 });
    await w.setProps({ serverErrors: [{ pointer: '/body/maxLength', message: 'must be <= 10' }] });
    expect(w.text()).toContain('must be <= 10');
  });
});

describe('MpErrorBoundary', () => {
  it('turns a broken panel into an error card and keeps the rest alive', async () => {
    const Broken = { setup: () => () => { throw new Error('kaboom'); } };
    const w = mount({ components: { MpErrorBoundary, Broken }, template: '<div><MpErrorBoundary label="Hello panel"><Broken /></MpErrorBoundary><p id="alive">still here</p></div>' }, { global: { config: { errorHandler: () => undefined } } });
    await nextTick();
    expect(w.find('[data-testid="error-state"]').text()).toContain('Hello panel failed');
    expect(w.find('[data-testid="error-state"]').text()).toContain('kaboom');
    expect(w.find('#alive').text()).toBe('still here');
  });
});

describe('MpConfirmDanger', () => {
  it('unlocks only after the confirmation text is typed', async () => {
    const w = mount(MpConfirmDanger, { props: { open: true, title: 'Uninstall hello?', confirmText: 'hello' }, attachTo: document.body });
    const button = () => document.querySelector<HTMLButtonElement>('[data-testid="confirm-danger"]')!;
    expect(button().disabled).toBe(true);
    const input = document.querySelector<HTMLInputElement>('[data-testid="confirm-input"]')!;
    input.value = 'hello';
    input.dispatchEvent(new Event('input'));
    await nextTick();
    expect(button().disabled).toBe(false);
    button().click();
    expect(w.emitted('confirm')).toHaveLength(1);
    w.unmount();
  });
});
