// Variables (#/variables): keys, descriptions and values for Op and Admin; add, edit, delete. A value
// whose key looks secret (password, token, api_key, …) comes from the API as "***", and so do such
// members of a JSON value: the page shows them masked and never writes "***" back.
// API: /api/v1/variables (docs/api-admin.md).
import {api, enc} from '../api.js';
import {h, mount} from '../dom.js';
import {adaptiveTable} from './backfills.js';
import {busy, confirmDialog, debounce, errorBox, field, loading, modal, pager, table} from '../ui.js';

const PAGE = 50;

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

export function render(root, route, ctx) {
  ctx.setTitle('Variables');
  let offset = 0;
  let search = '';
  let disposed = false;
  const body = h('div', {}, loading());
  const errors = h('div', {'aria-live': 'polite'});
  const show = (err) => {
    if (!disposed) mount(body, errorBox(err));
  };

  async function refresh() {
    const answer = await api.get('variables', {limit: PAGE, offset, order_by: 'key'});
    if (disposed) return;
    const rows = (answer.variables || []).filter((v) => !search || v.key.toLowerCase().includes(search) ||
      (v.description || '').toLowerCase().includes(search));
    const values = new Map();
    const columns = [
      {title: 'Key', cell: (v) => h('strong', {}, v.key)},
      {title: 'Value', cell: (v) => h('span', {dataset: {test: 'variable-value', key: v.key}}, valueCell(values.get(v.key)))},
      {title: 'Description', cell: (v) => v.description || ''},
      {title: '', cell: (v) => h('div', {class: 'row', style: {gap: '.35rem', flexWrap: 'nowrap'}},
        h('button', {type: 'button', dataset: {test: 'variable-edit'}, onclick: () => openEditor(v.key)}, 'Edit'),
        h('button', {type: 'button', class: 'danger', dataset: {test: 'variable-delete'}, onclick: () => remove(v.key)}, 'Delete'))},
    ];
    const list = adaptiveTable(columns, rows, {test: 'variable-list', empty: search ? 'No variable matches.' : 'No variables yet.',
      rowAttrs: (v) => ({dataset: {test: 'variable-row', key: v.key}})});
    mount(body, list, pager(answer.total_entries || 0, offset, PAGE, (next) => {
      offset = next;
      refresh().catch(show);
    }));
    // Lists carry no values (as Airflow's): read each shown value, a few at a time.
    const queue = rows.slice();
    const worker = async () => {
      while (queue.length && !disposed) {
        const v = queue.shift();
        let value = null;
        try {
          value = (await api.get(`variables/${enc(v.key)}`)).value;
        } catch {
          value = null;
        }
        values.set(v.key, value);
        for (const slot of list.querySelectorAll(`[data-test="variable-value"][data-key="${CSS.escape(v.key)}"]`)) {
          slot.replaceChildren(valueCell(value));
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  async function remove(key) {
    const ok = await confirmDialog(`Delete variable ${key}?`, 'Tasks that read it will fail until it exists again.',
      {confirmText: 'Delete', danger: true});
    if (!ok) return;
    await busy(null, async () => {
      await api.del(`variables/${enc(key)}`);
      await refresh();
    }, errors);
  }

  async function openEditor(key) {
    errors.replaceChildren();
    let existing = null;
    if (key) {
      try {
        existing = await api.get(`variables/${enc(key)}`);
      } catch (err) {
        errors.replaceChildren(errorBox(err));
        return;
      }
    }
    const saved = await modal(existing ? `Edit ${existing.key}` : 'Add a variable', (close) => editor(existing, close),
      {test: 'variable-dialog'});
    if (saved) await refresh().catch(show);
  }

  const searchInput = h('input', {type: 'search', placeholder: 'Filter by key or description', 'aria-label': 'Filter variables',
    dataset: {test: 'variable-search'}});
  searchInput.addEventListener('input', debounce(() => {
    search = searchInput.value.trim().toLowerCase();
    refresh().catch(show);
  }));

  mount(root,
    h('div', {class: 'toolbar'}, h('h1', {class: 'grow', style: {margin: 0}}, 'Variables'), searchInput,
      h('button', {type: 'button', class: 'primary', dataset: {test: 'variable-add'}, onclick: () => openEditor(null)}, '+ Add')),
    h('p', {class: 'muted'}, 'Values are encrypted at rest. A value whose key names a secret (password, token, api_key, …) shows as ***, ' +
      'and so do such keys inside a JSON value.'),
    errors, body);
  refresh().catch(show);
  return () => {
    disposed = true;
  };
}

function editor(existing, close) {
  const key = h('input', {required: true, maxlength: '250', value: existing ? existing.key : '', disabled: Boolean(existing),
    dataset: {test: 'variable-key'}, style: {width: '100%'}});
  const hidden = existing && masked(existing.value);
  const value = h('textarea', {rows: '5', spellcheck: 'false', dataset: {test: 'variable-value-input'}, style: {minHeight: '5rem'},
    placeholder: hidden ? 'hidden: type a new value to replace it' : ''});
  value.value = existing && !hidden ? existing.value || '' : '';
  const description = h('input', {value: existing ? existing.description || '' : '', dataset: {test: 'variable-description'}, style: {width: '100%'}});
  const formErrors = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit', class: 'primary', dataset: {test: 'variable-save'}}, 'Save');
  return h('form', {dataset: {test: 'variable-form'}, onsubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      if (existing) {
        const mask = [];
        const body = {};
        if (value.value !== '' || !hidden) {
          if (value.value !== (existing.value || '')) {
            if (masked(value.value)) {
              throw {status: 0, title: 'Masked value', detail: 'the value still holds *** where a secret was hidden: type the whole value again'};
            }
            mask.push('value');
            body.value = value.value;
          }
        }
        if (description.value !== (existing.description || '')) {
          mask.push('description');
          body.description = description.value;
        }
        if (mask.length) await api.patch(`variables/${enc(existing.key)}`, body, {query: {update_mask: mask.join(',')}});
      } else {
        if (!key.value.trim()) throw {status: 0, title: 'Missing key', detail: 'give the variable a key'};
        await api.post('variables', {key: key.value.trim(), value: value.value, description: description.value || null});
      }
      close(true);
    }, formErrors);
  }},
  field('Key', key, existing ? 'a key cannot change' : 'at most 250 characters'),
  field('Value', value, hidden ? 'this value is a secret and is not shown; leave it empty to keep it' : 'text; JSON text is read by {{ var.json.key }}'),
  field('Description', description),
  formErrors,
  h('div', {class: 'dialog-actions'}, h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'), save));
}
