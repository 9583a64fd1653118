// Connections (#/connections): the list (passwords never shown: the API never answers them, and the
// extra's secrets come back as "***"), add / edit / test / delete for Op and Admin, and the export
// download (json, yaml, env) for Admin. API: /api/v1/connections, /connections/test,
// /mayaflow/connections/export (docs/api-admin.md).
import {api, enc} from '../api.js';
import {h, mount} from '../dom.js';
import {adaptiveTable} from './backfills.js';
import {busy, confirmDialog, errorBox, field, loading, modal, pager, table} from '../ui.js';

const PAGE = 50;
const TYPES = ['google_cloud_platform', 'firebase', 'slackwebhook', 'fs', 'sqlite', 'postgres', 'mysql', 'http', 'generic'];
const FIELDS = ['conn_type', 'description', 'host', 'login', 'schema', 'port', 'extra'];

export function render(root, route, ctx) {
  ctx.setTitle('Connections');
  let offset = 0;
  let disposed = false;
  const body = h('div', {}, loading());
  const errors = h('div', {'aria-live': 'polite'});

  const show = (err) => {
    if (!disposed) mount(body, errorBox(err));
  };

  async function refresh() {
    const answer = await api.get('connections', {limit: PAGE, offset, order_by: 'connection_id'});
    if (disposed) return;
    const rows = answer.connections || [];
    const columns = [
      {title: 'ID', cell: (c) => h('strong', {}, c.connection_id)},
      {title: 'Type', cell: (c) => h('code', {}, c.conn_type || '')},
      {title: 'Host', cell: (c) => c.host || h('span', {class: 'muted'}, '—')},
      {title: 'Login', cell: (c) => c.login || h('span', {class: 'muted'}, '—')},
      {title: 'Schema', cell: (c) => c.schema || h('span', {class: 'muted'}, '—')},
      {title: 'Port', cell: (c) => (c.port === null || c.port === undefined ? h('span', {class: 'muted'}, '—') : String(c.port))},
      {title: 'Description', cell: (c) => c.description || ''},
    ];
    if (ctx.can('connections')) {
      columns.push({title: '', cell: (c) => h('div', {class: 'row', style: {gap: '.35rem', flexWrap: 'nowrap'}},
        h('button', {type: 'button', dataset: {test: 'connection-edit'}, onclick: () => openEditor(c.connection_id)}, 'Edit'),
        h('button', {type: 'button', dataset: {test: 'connection-test'}, onclick: (e) => testStored(c, e.currentTarget)}, 'Test'),
        h('button', {type: 'button', class: 'danger', dataset: {test: 'connection-delete'}, onclick: () => remove(c)}, 'Delete'))});
    }
    mount(body,
      adaptiveTable(columns, rows, {test: 'connection-list', empty: 'No connections yet.',
        rowAttrs: (c) => ({dataset: {test: 'connection-row', connectionId: c.connection_id}})}),
      pager(answer.total_entries || 0, offset, PAGE, (next) => {
        offset = next;
        refresh().catch(show);
      }));
  }

  // The test of a stored connection: its id and type without a password, so the daemon uses the stored
  // secrets (docs/api-admin.md, "Testing a connection").
  async function testStored(c, button) {
    await busy(button, async () => {
      const full = await api.get(`connections/${enc(c.connection_id)}`);
      const answer = await api.post('connections/test', testBody(full));
      showTestResult(answer);
    }, errors);
  }

  function showTestResult(answer) {
    errors.replaceChildren(h('div', {class: answer.status ? 'notice' : 'error-box', role: 'status', dataset: {test: 'connection-test-result', ok: String(Boolean(answer.status))}},
      h('strong', {}, answer.status ? '✓ Test passed' : '✕ Test failed'), ': ', answer.message || ''));
  }

  async function remove(c) {
    const ok = await confirmDialog(`Delete connection ${c.connection_id}?`,
      'Tasks that use it will fail until it exists again. This cannot be undone.', {confirmText: 'Delete', danger: true});
    if (!ok) return;
    await busy(null, async () => {
      await api.del(`connections/${enc(c.connection_id)}`);
      await refresh();
    }, errors);
  }

  async function openEditor(connectionId) {
    errors.replaceChildren();
    let existing = null;
    if (connectionId) {
      try {
        existing = await api.get(`connections/${enc(connectionId)}`);
      } catch (err) {
        errors.replaceChildren(errorBox(err));
        return;
      }
    }
    const saved = await modal(existing ? `Edit ${existing.connection_id}` : 'Add a connection',
      (close) => editor(existing, close, showTestResult), {test: 'connection-dialog'});
    if (saved) await refresh().catch(show);
  }

  const exportLinks = ctx.can('export')
    ? h('div', {class: 'row', style: {gap: '.35rem', alignItems: 'center'}, dataset: {test: 'connection-export'}},
      h('span', {class: 'muted'}, 'Export with secrets:'),
      ['json', 'yaml', 'env'].map((format) => h('a', {class: 'button', href: api.url('mayaflow/connections/export', {file_format: format}),
        download: `connections.${format}`, dataset: {test: `connection-export-${format}`}}, `⤓ ${format}`)))
    : null;

  mount(root,
    h('div', {class: 'toolbar'}, h('h1', {class: 'grow', style: {margin: 0}}, 'Connections'),
      exportLinks,
      ctx.can('connections') ? h('button', {type: 'button', class: 'primary', dataset: {test: 'connection-add'},
        onclick: () => openEditor(null)}, '+ Add') : null),
    h('p', {class: 'muted'}, 'Passwords are never shown, and secret keys of the extra show as ***. ' +
      (ctx.can('export') ? 'The export holds every secret: keep the file safe.' : '')),
    errors, body);
  refresh().catch(show);
  return () => {
    disposed = true;
  };
}

function testBody(c) {
  const body = {connection_id: c.connection_id, conn_type: c.conn_type};
  for (const name of ['host', 'login', 'schema', 'port', 'extra', 'description']) {
    if (c[name] !== null && c[name] !== undefined && c[name] !== '') body[name] = c[name];
  }
  return body;
}

// The add / edit form. An edit sends only the fields that changed (update_mask), so the stored password
// stays unless a new one is typed, and an extra shown with *** is not written back.
function editor(existing, close, showTestResult) {
  const value = (name) => (existing && existing[name] !== null && existing[name] !== undefined ? String(existing[name]) : '');
  const id = h('input', {required: true, pattern: '[A-Za-z0-9_.\\-]+', value: value('connection_id'), disabled: Boolean(existing),
    dataset: {test: 'connection-id'}, style: {width: '100%'}});
  const type = h('input', {required: true, list: 'connection-types', value: value('conn_type'), dataset: {test: 'connection-type'}, style: {width: '100%'}});
  const types = h('datalist', {id: 'connection-types'}, TYPES.map((t) => h('option', {value: t})));
  const description = h('input', {value: value('description'), dataset: {test: 'connection-description'}, style: {width: '100%'}});
  const host = h('input', {value: value('host'), dataset: {test: 'connection-host'}});
  const login = h('input', {value: value('login'), autocomplete: 'off', dataset: {test: 'connection-login'}});
  const schema = h('input', {value: value('schema'), dataset: {test: 'connection-schema'}});
  const port = h('input', {type: 'number', min: '0', max: '65535', value: value('port'), dataset: {test: 'connection-port'}});
  const password = h('input', {type: 'password', autocomplete: 'new-password',
    placeholder: existing ? 'unchanged unless you type a new one' : '', dataset: {test: 'connection-password'}, style: {width: '100%'}});
  const extra = h('textarea', {rows: '4', spellcheck: 'false', placeholder: '{"key": "value"}', dataset: {test: 'connection-extra'},
    style: {minHeight: '5rem'}});
  extra.value = value('extra');
  const formErrors = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit', class: 'primary', dataset: {test: 'connection-save'}}, 'Save');
  const test = h('button', {type: 'button', dataset: {test: 'connection-form-test'}}, 'Test');

  const controls = {conn_type: type, description, host, login, schema, port, extra};
  const read = () => {
    const out = {};
    for (const [name, control] of Object.entries(controls)) {
      const text = control.value.trim();
      if (name === 'port') out.port = text === '' ? null : Number(text);
      else if (name === 'extra' || name === 'description' || name === 'conn_type') out[name] = text === '' ? null : text;
      else out[name] = text === '' ? null : text;
    }
    if (out.extra !== null) {
      let parsed;
      try {
        parsed = JSON.parse(out.extra);
      } catch (err) {
        throw {status: 0, title: 'Invalid extra', detail: `the extra is not JSON: ${err.message}`};
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw {status: 0, title: 'Invalid extra', detail: 'the extra must be a JSON object, such as {"project": "x"}'};
      }
    }
    if (out.port !== null && (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535)) {
      throw {status: 0, title: 'Invalid port', detail: 'the port is a whole number from 0 to 65535'};
    }
    if (!out.conn_type) throw {status: 0, title: 'Missing type', detail: 'give the connection type, such as postgres or google_cloud_platform'};
    return out;
  };

  test.addEventListener('click', () => busy(test, async () => {
    const fields = read();
    const body = {connection_id: existing ? existing.connection_id : id.value.trim() || 'unsaved', ...fields};
    for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
    if (password.value) body.password = password.value;
    const answer = await api.post('connections/test', body);
    formErrors.replaceChildren(h('div', {class: answer.status ? 'notice' : 'error-box', role: 'status', dataset: {test: 'connection-test-result', ok: String(Boolean(answer.status))}},
      h('strong', {}, answer.status ? '✓ Test passed' : '✕ Test failed'), ': ', answer.message || ''));
  }, formErrors));

  const form = h('form', {dataset: {test: 'connection-form'}, onsubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      const fields = read();
      if (existing) {
        const changed = FIELDS.filter((name) => (fields[name] === null ? '' : String(fields[name])) !== value(name));
        if (changed.includes('extra') && /"\*\*\*"/.test(fields.extra || '')) {
          throw {status: 0, title: 'Masked value', detail: 'the extra still holds "***" where a secret was hidden: type the secret again or leave the extra unchanged'};
        }
        const body = {};
        for (const name of changed) body[name] = fields[name];
        if (password.value) {
          body.password = password.value;
          changed.push('password');
        }
        if (!changed.length) {
          close(false);
          return;
        }
        await api.patch(`connections/${enc(existing.connection_id)}`, body, {query: {update_mask: changed.join(',')}});
      } else {
        const body = {connection_id: id.value.trim(), ...fields};
        for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
        if (password.value) body.password = password.value;
        await api.post('connections', body);
      }
      close(true);
    }, formErrors);
  }},
  field('Connection id', id, existing ? 'an id cannot change' : 'letters, digits, _ . and -'),
  field('Type', type), types,
  field('Description', description),
  h('div', {class: 'row'}, field('Host', host), field('Port', port)),
  h('div', {class: 'row'}, field('Login', login), field('Schema', schema)),
  field('Password', password),
  field('Extra (JSON object)', extra, existing ? 'secret keys show as ***; leave them as they are to keep them' : null),
  formErrors,
  h('div', {class: 'dialog-actions'},
    h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'), test, save));
  return form;
}
