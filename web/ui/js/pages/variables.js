// Variables (#/variables): keys, descriptions and values for Op and Admin; add, edit, delete. A value
// whose key looks secret (password, token, api_key, …) comes from the API as "***", and so do such
// members of a JSON value: the page shows them masked and never writes "***" back.
// API: /api/v1/variables (docs/api-admin.md).
import {api, enc} from '../api.js';
import {h} from '../dom.js';
import {button, changes, debounce, dialogForm, field, pagedList, patchFields} from '../ui.js';

function masked(value) {
  return typeof value === 'string' && value.includes('***');
}

function valueCell(value) {
  if (value === undefined) return h('span', {class: 'muted'}, '…');
  if (value === null) return h('span', {class: 'muted'}, '(could not be read)');
  if (value === '***') {
    return h('span', {title: 'a secret: the API never shows it', dataset: {test: 'variable-masked'}},
      h('code', {}, '***'), h('span', {class: 'muted small'}, ' (secret, hidden)'));
  }
  const text = value.length > 160 ? `${value.slice(0, 160)}…` : value;
  return h('code', {style: {whiteSpace: 'pre-wrap', overflowWrap: 'anywhere'}, title: masked(value) ? 'secret members show as ***' : undefined}, text);
}

// Lists carry no values (as Airflow's): read each shown value, a few at a time, into its slots.
async function fillValues(rows, list) {
  const queue = rows.slice();
  const worker = async () => {
    while (queue.length && list.isConnected) {
      const v = queue.shift();
      const value = await api.get(`variables/${enc(v.key)}`).then((answer) => answer.value, () => null);
      for (const slot of list.querySelectorAll(`[data-test="variable-value"][data-key="${CSS.escape(v.key)}"]`)) {
        slot.replaceChildren(valueCell(value));
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

export function render(root, route, ctx) {
  let search = '';
  const edit = (key) => list.edit(key && `variables/${enc(key)}`, (v) => (v ? `Edit ${v.key}` : 'Add a variable'), editor);
  const searchInput = h('input', {type: 'search', placeholder: 'Filter by key or description', 'aria-label': 'Filter variables',
    dataset: {test: 'variable-search'}});
  searchInput.addEventListener('input', debounce(() => {
    search = searchInput.value.trim().toLowerCase();
    list.reload();
  }));

  const list = pagedList(root, ctx, {
    title: 'Variables', needs: 'variables', test: 'variable', path: 'variables', query: {order_by: 'key'}, tools: searchInput,
    intro: 'Values are encrypted at rest. A value whose key names a secret (password, token, api_key, …) shows as ***, ' +
      'and so do such keys inside a JSON value.',
    add: () => edit(null),
    columns: [
      {title: 'Key', cell: (v) => h('strong', {}, v.key)},
      {title: 'Value', cell: (v) => h('span', {dataset: {test: 'variable-value', key: v.key}}, valueCell(undefined))},
      {title: 'Description', cell: (v) => v.description || ''},
    ],
    actions: (v) => [
      button('variable-edit', 'Edit', () => edit(v.key)),
      button('variable-delete', 'Delete', () => list.remove(`Delete variable ${v.key}?`, 'Tasks that read it will fail until it exists again.',
        `variables/${enc(v.key)}`), {class: 'danger'}),
    ],
    rowAttrs: (v) => ({dataset: {key: v.key}}),
    empty: () => (search ? 'No variable matches.' : 'No variables yet.'),
    filter: (rows) => rows.filter((v) => !search || v.key.toLowerCase().includes(search) ||
      (v.description || '').toLowerCase().includes(search)),
    loaded: fillValues,
  });
  return list.dispose;
}

function editor(existing, close) {
  const key = h('input', {required: true, maxlength: '250', value: existing ? existing.key : '', disabled: Boolean(existing),
    dataset: {test: 'variable-key'}, style: {width: '100%'}});
  const hidden = existing && masked(existing.value);
  const value = h('textarea', {rows: '5', spellcheck: 'false', dataset: {test: 'variable-value-input'}, style: {minHeight: '5rem'},
    placeholder: hidden ? 'hidden: type a new value to replace it' : ''});
  value.value = existing && !hidden ? existing.value || '' : '';
  const description = h('input', {value: existing ? existing.description || '' : '', dataset: {test: 'variable-description'}, style: {width: '100%'}});
  return dialogForm(close, {test: 'variable', submit: async () => {
    if (!existing) {
      if (!key.value.trim()) throw {status: 0, title: 'Missing key', detail: 'give the variable a key'};
      await api.post('variables', {key: key.value.trim(), value: value.value, description: description.value || null});
      return;
    }
    // A hidden value left empty is kept.
    const now = {value: value.value === '' && hidden ? existing.value || '' : value.value, description: description.value};
    const body = changes(now, {value: existing.value || '', description: existing.description || ''});
    if ('value' in body && masked(body.value)) {
      throw {status: 0, title: 'Masked value', detail: 'the value still holds *** where a secret was hidden: type the whole value again'};
    }
    await patchFields(`variables/${enc(existing.key)}`, body);
  }},
  field('Key', key, existing ? 'a key cannot change' : 'at most 250 characters'),
  field('Value', value, hidden ? 'this value is a secret and is not shown; leave it empty to keep it' : 'text; JSON text is read by {{ var.json.key }}'),
  field('Description', description));
}
