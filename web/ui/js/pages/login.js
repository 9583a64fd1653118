// The login page: POST /api/v1/mayaflow/session, then back to where the user was going.
import {api, setCsrfToken} from '../api.js';
import {h, mount} from '../dom.js';
import {errorBox} from '../ui.js';

export function render(root, route, ctx) {
  ctx.setTitle('Sign in');
  const next = route.query.get('next') || '/dags';
  const username = h('input', {id: 'login-username', name: 'username', autocomplete: 'username', required: true,
    dataset: {test: 'login-username'}});
  const password = h('input', {id: 'login-password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true, dataset: {test: 'login-password'}});
  const errors = h('div', {'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', class: 'primary', dataset: {test: 'login-submit'}}, 'Sign in');
  const form = h('form', {class: 'panel login', dataset: {test: 'login-form'}, onsubmit: async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    submit.disabled = true;
    try {
      const session = await api.post('mayaflow/session', {username: username.value, password: password.value},
        {quiet401: true});
      setCsrfToken(session.csrf_token);
      ctx.signedIn({username: session.username, roles: session.roles || []}, session.csrf_token);
      location.hash = `#${next.startsWith('/') && !next.startsWith('/login') ? next : '/dags'}`;
    } catch (err) {
      if (err.status === 404) {
        // MAYAFLOW_API_AUTH=off: no sessions; every request is a Viewer's.
        ctx.signedIn({username: 'anonymous', roles: ['Viewer'], noAuth: true}, null);
        location.hash = `#${next.startsWith('/') && !next.startsWith('/login') ? next : '/dags'}`;
        return;
      }
      errors.replaceChildren(errorBox(err));
      password.select();
    } finally {
      submit.disabled = false;
    }
  }},
  h('h1', {}, 'Sign in to mayaflow'),
  h('label', {for: 'login-username'}, 'Username'), username,
  h('label', {for: 'login-password'}, 'Password'), password,
  submit, errors);
  mount(root, form);
  username.focus();
}
