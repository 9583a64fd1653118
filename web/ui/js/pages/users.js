// Users (#/users, Admin): the list with roles, state and last sign-in; create a user; change a user's
// roles or password; deactivate a user (no sign-in, sessions ended; `active: false`, which mayaflow's
// PATCH /users takes and Airflow's leaves to FAB's form) and activate them again; delete a user (with
// their tokens and sessions). API: /api/v1/users (docs/api-auth.md).
import {api, enc} from '../api.js';
import {h} from '../dom.js';
import {time} from '../format.js';
import {button, confirmDialog, dialogForm, field, iconLabel, pagedList, patchFields} from '../ui.js';

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
  const value = () => {
    const roles = boxes.filter((b) => b.checked).map((b) => ({name: b.value}));
    if (!roles.length) throw {status: 0, title: 'No role', detail: 'give the user at least one role'};
    return roles;
  };
  return {node, value};
}

export function render(root, route, ctx) {
  const list = pagedList(root, ctx, {
    title: 'Users', needs: 'users', test: 'user', path: 'users', query: {order_by: 'username'},
    intro: 'Roles: Viewer < User < Op < Admin, each with the rights of the ones before it. Passwords are never shown.',
    add: () => list.dialog('Create a user', createForm), addText: '+ Create user',
    columns: [
      {title: 'Username', cell: (u) => h('strong', {}, u.username)},
      {title: 'Name', cell: (u) => `${u.first_name || ''} ${u.last_name || ''}`.trim()},
      {title: 'Email', cell: (u) => u.email || ''},
      {title: 'Roles', cell: (u) => h('span', {dataset: {test: 'user-roles'}}, roleNames(u).map((r) => h('span', {class: 'tag'}, r)))},
      {title: 'State', cell: (u) => (u.active ? iconLabel('✓', 'active', 'var(--s-success)') : iconLabel('⊘', 'inactive', 'var(--s-removed)'))},
      {title: 'Last sign-in', cell: (u) => time(u.last_login, {short: true, empty: 'never'})},
      {title: 'Sign-ins', cell: (u) => String(u.login_count || 0)},
    ],
    actions: (u) => [
      button('user-edit', 'Roles', () => list.dialog(`Roles of ${u.username}`, (close) => rolesForm(u, close))),
      button('user-password', 'Password', () => list.dialog(`New password for ${u.username}`, (close) => passwordForm(u, close),
        () => list.errors.replaceChildren(h('div', {class: 'notice', role: 'status'}, `The password of ${u.username} changed; their sessions ended.`)))),
      u.username.toLowerCase() === ctx.user.username.toLowerCase() ? null
        : button(u.active ? 'user-deactivate' : 'user-activate', u.active ? 'Deactivate' : 'Activate', async (event) => {
          const pressed = event.currentTarget;  // gone once the dialog has been awaited
          const question = u.active ? `Deactivate ${u.username}?` : `Activate ${u.username}?`;
          const consequence = u.active ? 'They can no longer sign in, by the page, Basic or an API token, and their sessions end now. Their runs, notes and tokens stay.'
            : 'They can sign in again with their password and tokens.';
          if (await confirmDialog(question, consequence, {confirmText: u.active ? 'Deactivate' : 'Activate', danger: u.active})) {
            await list.act(pressed, () => patchFields(`users/${enc(u.username)}`, {active: !u.active}));
          }
        }),
      u.username.toLowerCase() === ctx.user.username.toLowerCase() ? null
        : button('user-delete', 'Delete', () => list.remove(`Delete user ${u.username}?`,
          'Their sessions end and their API tokens stop working at once. This cannot be undone.', `users/${enc(u.username)}`), {class: 'danger'}),
    ],
    rowAttrs: (u) => ({dataset: {username: u.username}}),
  });
  return list.dispose;
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
  return dialogForm(close, {test: 'user', saveText: 'Create', submit: async () => {
    const body = {};
    for (const [name, input] of Object.entries(inputs)) body[name] = input.value.trim();
    body.password = inputs.password.value;
    body.roles = roles.value();
    await api.post('users', body);
  }},
  h('div', {class: 'row'}, field('Username', inputs.username), field('Email', inputs.email)),
  h('div', {class: 'row'}, field('First name', inputs.first_name), field('Last name', inputs.last_name)),
  field('Password', inputs.password),
  roles.node);
}

function rolesForm(user, close) {
  const roles = roleChooser(roleNames(user));
  return dialogForm(close, {test: 'user', submit: () => patchFields(`users/${enc(user.username)}`, {roles: roles.value()})}, roles.node);
}

function passwordForm(user, close) {
  const password = h('input', {type: 'password', required: true, autocomplete: 'new-password', dataset: {test: 'user-new-password'}});
  return dialogForm(close, {test: 'user', saveText: 'Set password',
    submit: () => patchFields(`users/${enc(user.username)}`, {password: password.value})},
  field('New password', password, 'their sessions end when it changes'));
}
