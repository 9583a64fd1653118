// Connections (#/connections): the list (passwords never shown: the API never answers them, and the
// extra's secrets come back as "***"), add / edit / test / delete for Op and Admin, and the export
// download (json, yaml, env) for Admin. API: /api/v1/connections, /connections/test,
// /mayaflow/connections/export (docs/api-admin.md).
import {api, enc} from '../api.js';
import {h} from '../dom.js';
import {busy, button, dialogForm, field, pagedList, parseObject} from '../ui.js';

const TYPES = ['google_cloud_platform', 'firebase', 'slackwebhook', 'fs', 'sqlite', 'postgres', 'mysql', 'http', 'generic'];
const FIELDS = ['conn_type', 'description', 'host', 'login', 'schema', 'port', 'extra'];

const orDash = (value) => (value === null || value === undefined || value === '' ? h('span', {class: 'muted'}, '—') : String(value));

// What POST /connections/test answered, shown in `slot`.
function showTestResult(slot, answer) {
  slot.replaceChildren(h('div', {class: answer.status ? 'notice' : 'error-box', role: 'status',
    dataset: {test: 'connection-test-result', ok: String(Boolean(answer.status))}},
  h('strong', {}, answer.status ? '✓ Test passed' : '✕ Test failed'), ': ', answer.message || ''));
}

// `c` without its empty members.
function withoutEmpty(c) {
  return Object.fromEntries(Object.entries(c).filter(([, value]) => value !== null && value !== undefined && value !== ''));
}

export function render(root, route, ctx) {
  // The test of a stored connection: its id and type without a password, so the daemon uses the stored
  // secrets (docs/api-admin.md, "Testing a connection").
  const testStored = (c, testButton) => busy(testButton, async () => {
    const {connection_id, conn_type, host, login, schema, port, extra, description} = await api.get(`connections/${enc(c.connection_id)}`);
    showTestResult(list.errors, await api.post('connections/test',
      {connection_id, conn_type, ...withoutEmpty({host, login, schema, port, extra, description})}));
  }, list.errors);
  const edit = (id) => list.edit(id && `connections/${enc(id)}`, (c) => (c ? `Edit ${c.connection_id}` : 'Add a connection'), editor);

  const exportLinks = ctx.can('export')
    ? h('div', {class: 'row', style: {gap: '.35rem', alignItems: 'center'}, dataset: {test: 'connection-export'}},
      h('span', {class: 'muted'}, 'Export with secrets:'),
      ['json', 'yaml', 'env'].map((format) => h('a', {class: 'button', href: api.url('mayaflow/connections/export', {file_format: format}),
        download: `connections.${format}`, dataset: {test: `connection-export-${format}`}}, `⤓ ${format}`)))
    : null;

  const list = pagedList(root, ctx, {
    title: 'Connections', needs: 'connections', test: 'connection', path: 'connections', query: {order_by: 'connection_id'}, tools: exportLinks,
    intro: 'Passwords are never shown, and secret keys of the extra show as ***. ' +
      (ctx.can('export') ? 'The export holds every secret: keep the file safe.' : ''),
    add: ctx.can('connections') ? () => edit(null) : null,
    columns: [
      {title: 'ID', cell: (c) => h('strong', {}, c.connection_id)},
      {title: 'Type', cell: (c) => h('code', {}, c.conn_type || '')},
      {title: 'Host', cell: (c) => orDash(c.host)},
      {title: 'Login', cell: (c) => orDash(c.login)},
      {title: 'Schema', cell: (c) => orDash(c.schema)},
      {title: 'Port', cell: (c) => orDash(c.port)},
      {title: 'Description', cell: (c) => c.description || ''},
    ],
    actions: ctx.can('connections') ? (c) => [
      button('connection-edit', 'Edit', () => edit(c.connection_id)),
      button('connection-test', 'Test', (e) => testStored(c, e.currentTarget)),
      button('connection-delete', 'Delete', () => list.remove(`Delete connection ${c.connection_id}?`,
        'Tasks that use it will fail until it exists again. This cannot be undone.', `connections/${enc(c.connection_id)}`), {class: 'danger'}),
    ] : null,
    rowAttrs: (c) => ({dataset: {connectionId: c.connection_id}}),
    empty: 'No connections yet.',
  });
  return list.dispose;
}

// The add / edit form. An edit sends only the fields that changed (update_mask), so the stored password
// stays unless a new one is typed, and an extra shown with *** is not written back.
function editor(existing, close) {
  const value = (name) => (existing && existing[name] !== null && existing[name] !== undefined ? String(existing[name]) : '');
  const input = (name, attrs = {}) => h('input', {value: value(name), dataset: {test: `connection-${name}`}, ...attrs});
  const id = h('input', {required: true, pattern: '[A-Za-z0-9_.\\-]+', value: value('connection_id'), disabled: Boolean(existing),
    dataset: {test: 'connection-id'}, style: {width: '100%'}});
  const type = h('input', {required: true, list: 'connection-types', value: value('conn_type'), dataset: {test: 'connection-type'}, style: {width: '100%'}});
  const types = h('datalist', {id: 'connection-types'}, TYPES.map((t) => h('option', {value: t})));
  const description = input('description', {style: {width: '100%'}});
  const host = input('host');
  const login = h('input', {value: value('login'), autocomplete: 'off', dataset: {test: 'connection-login'}});
  const schema = input('schema');
  const port = h('input', {type: 'number', min: '0', max: '65535', value: value('port'), dataset: {test: 'connection-port'}});
  const password = h('input', {type: 'password', autocomplete: 'new-password',
    placeholder: existing ? 'unchanged unless you type a new one' : '', dataset: {test: 'connection-password'}, style: {width: '100%'}});
  const extra = h('textarea', {rows: '4', spellcheck: 'false', placeholder: '{"key": "value"}', dataset: {test: 'connection-extra'},
    style: {minHeight: '5rem'}});
  extra.value = value('extra');
  const formErrors = h('div', {'aria-live': 'polite'});

  const controls = {conn_type: type, description, host, login, schema, port, extra};
  // The form's fields (empty ones null), checked.
  const read = () => {
    const out = {};
    for (const [name, control] of Object.entries(controls)) {
      const text = control.value.trim();
      out[name] = text === '' ? null : name === 'port' ? Number(text) : text;
    }
    if (out.extra !== null) parseObject(out.extra, 'Invalid extra', 'the extra', '{"project": "x"}');
    if (out.port !== null && (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535)) {
      throw {status: 0, title: 'Invalid port', detail: 'the port is a whole number from 0 to 65535'};
    }
    if (!out.conn_type) throw {status: 0, title: 'Missing type', detail: 'give the connection type, such as postgres or google_cloud_platform'};
    return out;
  };
  // A new connection, or one being tested: the fields given, and the password when one is typed.
  const whole = (connectionId) => withoutEmpty({connection_id: connectionId, ...read(), password: password.value});

  const test = button('connection-form-test', 'Test', () => busy(test, async () => {
    showTestResult(formErrors, await api.post('connections/test', whole(existing ? existing.connection_id : id.value.trim() || 'unsaved')));
  }, formErrors));

  const submit = async () => {
    if (!existing) {
      await api.post('connections', whole(id.value.trim()));
      return;
    }
    const fields = read();
    const changed = FIELDS.filter((name) => (fields[name] === null ? '' : String(fields[name])) !== value(name));
    if (changed.includes('extra') && /"\*\*\*"/.test(fields.extra || '')) {
      throw {status: 0, title: 'Masked value', detail: 'the extra still holds "***" where a secret was hidden: type the secret again or leave the extra unchanged'};
    }
    const body = Object.fromEntries(changed.map((name) => [name, fields[name]]));
    if (password.value) body.password = password.value;
    if (!Object.keys(body).length) return false;
    await api.patch(`connections/${enc(existing.connection_id)}`, body, {query: {update_mask: Object.keys(body).join(',')}});
  };

  return dialogForm(close, {test: 'connection', submit, buttons: test, errors: formErrors},
    field('Connection id', id, existing ? 'an id cannot change' : 'letters, digits, _ . and -'),
    field('Type', type), types,
    field('Description', description),
    h('div', {class: 'row'}, field('Host', host), field('Port', port)),
    h('div', {class: 'row'}, field('Login', login), field('Schema', schema)),
    field('Password', password),
    field('Extra (JSON object)', extra, existing ? 'Its secret keys show as ***. Leave the extra as it is to keep them; to change anything ' +
      'in it, write the whole extra with every secret typed again (an extra holding *** is not saved).' : null));
}
