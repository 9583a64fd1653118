// Users (#/users, Admin): the list with roles, state and last sign-in; create a user; change a user's
// roles or password; delete a user (with their tokens and sessions). The API has no field to make a user
// inactive (Airflow's PATCH /users does not take `active` either), so "deactivate" here is delete; a
// user made inactive with the CLI shows as inactive. API: /api/v1/users (docs/api-auth.md).
import {api, enc} from '../api.js';
import {h, mount} from '../dom.js';
import {adaptiveTable} from './backfills.js';
import {time} from '../format.js';
import {busy, confirmDialog, errorBox, field, loading, modal, pager, table} from '../ui.js';

const PAGE = 50;
const ROLES = ['Viewer', 'User', 'Op', 'Admin'];
const ROLE_HELP = {
  Viewer: 'reads DAGs, runs, logs, backfills, pools, cost',
  User: 'and triggers, clears, marks, pauses, backfills',
  Op: 'and manages pools, variables, connections',
  Admin: 'and manages users, exports connections, reads the configuration',
};

function roleNames(user) {
  return (user.roles || []).map((r) => r.name);
}

function roleChooser(chosen) {
  const boxes = ROLES.map((role) => h('input', {type: 'checkbox', value: role, checked: chosen.includes(role), dataset: {test: `user-role-${role}`}}));
  const node = h('fieldset', {style: {border: '1px solid var(--line)', borderRadius: 'var(--radius)'}},
    h('legend', {}, 'Roles'),
    boxes.map((box, i) => h('label', {class: 'inline', style: {margin: '.25rem 0', display: 'flex'}}, box,
      h('span', {}, h('strong', {}, ROLES[i]), h('span', {class: 'muted small'}, ` — ${ROLE_HELP[ROLES[i]]}`)))));
  return {node, value: () => boxes.filter((b) => b.checked).map((b) => ({name: b.value}))};
}

export function render(root, route, ctx) {
  ctx.setTitle('Users');
  let offset = 0;
  let disposed = false;
  const body = h('div', {}, loading());
  const errors = h('div', {'aria-live': 'polite'});
  const show = (err) => {
    if (!disposed) mount(body, errorBox(err));
  };

  async function refresh() {
    const answer = await api.get('users', {limit: PAGE, offset, order_by: 'username'});
    if (disposed) return;
    const columns = [
      {title: 'Username', cell: (u) => h('strong', {}, u.username)},
      {title: 'Name', cell: (u) => `${u.first_name || ''} ${u.last_name || ''}`.trim()},
      {title: 'Email', cell: (u) => u.email || ''},
      {title: 'Roles', cell: (u) => h('span', {dataset: {test: 'user-roles'}}, roleNames(u).map((r) => h('span', {class: 'tag'}, r)))},
      {title: 'State', cell: (u) => (u.active
        ? h('span', {class: 'state', style: {color: 'var(--s-success)'}}, h('span', {class: 'icon', 'aria-hidden': 'true'}, '✓'), 'active')
        : h('span', {class: 'state', style: {color: 'var(--s-removed)'}}, h('span', {class: 'icon', 'aria-hidden': 'true'}, '⊘'), 'inactive'))},
      {title: 'Last sign-in', cell: (u) => time(u.last_login, {short: true, empty: 'never'})},
      {title: 'Sign-ins', cell: (u) => String(u.login_count || 0)},
      {title: '', cell: (u) => h('div', {class: 'row', style: {gap: '.35rem', flexWrap: 'nowrap'}},
        h('button', {type: 'button', dataset: {test: 'user-edit'}, onclick: () => openEditor(u)}, 'Roles'),
        h('button', {type: 'button', dataset: {test: 'user-password'}, onclick: () => openPassword(u)}, 'Password'),
        u.username.toLowerCase() === ctx.user.username.toLowerCase() ? null
          : h('button', {type: 'button', class: 'danger', dataset: {test: 'user-delete'}, onclick: () => remove(u)}, 'Delete'))},
    ];
    mount(body,
      adaptiveTable(columns, answer.users || [], {test: 'user-list', rowAttrs: (u) => ({dataset: {test: 'user-row', username: u.username}})}),
      pager(answer.total_entries || 0, offset, PAGE, (next) => {
        offset = next;
        refresh().catch(show);
      }));
  }

  async function remove(user) {
    const ok = await confirmDialog(`Delete user ${user.username}?`,
      'Their sessions end and their API tokens stop working at once. This cannot be undone.', {confirmText: 'Delete', danger: true});
    if (!ok) return;
    await busy(null, async () => {
      await api.del(`users/${enc(user.username)}`);
      await refresh();
    }, errors);
  }

  async function openEditor(user) {
    errors.replaceChildren();
    const saved = await modal(user ? `Roles of ${user.username}` : 'Create a user', (close) => (user ? rolesForm(user, close) : createForm(close)),
      {test: 'user-dialog'});
    if (saved) await refresh().catch(show);
  }

  async function openPassword(user) {
    errors.replaceChildren();
    const saved = await modal(`New password for ${user.username}`, (close) => passwordForm(user, close), {test: 'user-dialog'});
    if (saved) errors.replaceChildren(h('div', {class: 'notice', role: 'status'}, `The password of ${user.username} changed; their sessions ended.`));
  }

  mount(root,
    h('div', {class: 'toolbar'}, h('h1', {class: 'grow', style: {margin: 0}}, 'Users'),
      h('button', {type: 'button', class: 'primary', dataset: {test: 'user-add'}, onclick: () => openEditor(null)}, '+ Create user')),
    h('p', {class: 'muted'}, 'Roles: Viewer < User < Op < Admin, each with the rights of the ones before it. Passwords are never shown.'),
    errors, body);
  refresh().catch(show);
  return () => {
    disposed = true;
  };
}

function createForm(close) {
  const inputs = {
    username: h('input', {required: true, autocomplete: 'off', dataset: {test: 'user-username'}}),
    first_name: h('input', {required: true, dataset: {test: 'user-first-name'}}),
    last_name: h('input', {required: true, dataset: {test: 'user-last-name'}}),
    email: h('input', {type: 'email', required: true, dataset: {test: 'user-email'}}),
    password: h('input', {type: 'password', required: true, autocomplete: 'new-password', dataset: {test: 'user-new-password'}}),
  };
  const roles = roleChooser(['Viewer']);
  const formErrors = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit', class: 'primary', dataset: {test: 'user-save'}}, 'Create');
  return h('form', {dataset: {test: 'user-form'}, onsubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      const body = {};
      for (const [name, input] of Object.entries(inputs)) body[name] = input.value.trim();
      body.password = inputs.password.value;
      body.roles = roles.value();
      if (!body.roles.length) throw {status: 0, title: 'No role', detail: 'give the user at least one role'};
      await api.post('users', body);
      close(true);
    }, formErrors);
  }},
  h('div', {class: 'row'}, field('Username', inputs.username), field('Email', inputs.email)),
  h('div', {class: 'row'}, field('First name', inputs.first_name), field('Last name', inputs.last_name)),
  field('Password', inputs.password),
  roles.node, formErrors,
  h('div', {class: 'dialog-actions'}, h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'), save));
}

function rolesForm(user, close) {
  const roles = roleChooser(roleNames(user));
  const formErrors = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit', class: 'primary', dataset: {test: 'user-save'}}, 'Save');
  return h('form', {dataset: {test: 'user-form'}, onsubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      const chosen = roles.value();
      if (!chosen.length) throw {status: 0, title: 'No role', detail: 'give the user at least one role'};
      await api.patch(`users/${enc(user.username)}`, {roles: chosen}, {query: {update_mask: 'roles'}});
      close(true);
    }, formErrors);
  }},
  roles.node, formErrors,
  h('div', {class: 'dialog-actions'}, h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'), save));
}

function passwordForm(user, close) {
  const password = h('input', {type: 'password', required: true, autocomplete: 'new-password', dataset: {test: 'user-new-password'}});
  const formErrors = h('div', {'aria-live': 'polite'});
  const save = h('button', {type: 'submit', class: 'primary', dataset: {test: 'user-save'}}, 'Set password');
  return h('form', {dataset: {test: 'user-form'}, onsubmit: (event) => {
    event.preventDefault();
    busy(save, async () => {
      await api.patch(`users/${enc(user.username)}`, {password: password.value}, {query: {update_mask: 'password'}});
      close(true);
    }, formErrors);
  }},
  field('New password', password, 'their sessions end when it changes'),
  formErrors,
  h('div', {class: 'dialog-actions'}, h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'), save));
}
