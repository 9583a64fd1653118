// The UI's shell: signs the user in (GET /api/v1/mayaflow/session), fills the header, and routes
// the URL's hash to a page module (js/pages/<name>.js, loaded on demand). Each page exports
// render(root, route, ctx) and may return dispose(), called when the user leaves the page; it may
// export prefetch(route), which asks for the page's first answers while the session is checked.
import {api, ApiError, setCsrfToken, setUnauthorizedHandler} from './api.js';
import {h, mount} from './dom.js';
import {errorBox, loading} from './ui.js';

const ROLE_ORDER = ['Viewer', 'User', 'Op', 'Admin'];

// What each action needs; pages ask ctx.can('trigger') and hide what the role cannot do (the API
// refuses it anyway).
const NEEDS = {
  read: 'Viewer',
  edit: 'User', trigger: 'User', pause: 'User', note: 'User', backfill: 'User',
  clear: 'Op', mark: 'Op',
  manage: 'Op', connections: 'Op', variables: 'Op', pools: 'Op',
  admin: 'Admin', users: 'Admin', export: 'Admin', config: 'Admin',
};

// The pages of the header, and the action each needs to be listed.
const NAV = [
  {href: '#/dags', label: 'DAGs', page: 'dags'},
  {href: '#/backfills', label: 'Backfills', page: 'backfills'},
  {href: '#/cost', label: 'Cost', page: 'cost'},
  {href: '#/pools', label: 'Pools', page: 'pools'},
  {href: '#/variables', label: 'Variables', page: 'variables', needs: 'variables'},
  {href: '#/connections', label: 'Connections', page: 'connections', needs: 'connections'},
  {href: '#/users', label: 'Users', page: 'users', needs: 'users'},
];

// Each page's module, loaded when the page is first shown. Named one by one, not built from the
// route: the build bundles every module it can see into one file (docs/ui.md).
const PAGES = {
  dags: () => import('./pages/dags.js'),
  dag: () => import('./pages/dag.js'),
  task: () => import('./pages/task.js'),
  trigger: () => import('./pages/trigger.js'),
  backfills: () => import('./pages/backfills.js'),
  cost: () => import('./pages/cost.js'),
  pools: () => import('./pages/pools.js'),
  variables: () => import('./pages/variables.js'),
  connections: () => import('./pages/connections.js'),
  users: () => import('./pages/users.js'),
  login: () => import('./pages/login.js'),
};

const state = {user: null, dispose: null, renderId: 0};

// Whether this browser was signed in when it last looked: only then does the UI ask for a page's
// first answers beside the session check (a browser signed out would get a 401 for each of them).
const SIGNED_IN_HINT = 'mayaflow.signedIn';
function rememberSignedIn(yes) {
  try {
    if (yes) localStorage.setItem(SIGNED_IN_HINT, '1');
    else localStorage.removeItem(SIGNED_IN_HINT);
  } catch {
    // storage disabled: no prefetching
  }
}
function wasSignedIn() {
  try {
    return localStorage.getItem(SIGNED_IN_HINT) === '1';
  } catch {
    return false;
  }
}

function rank(roles) {
  return Math.max(-1, ...(roles || []).map((r) => ROLE_ORDER.findIndex((x) => x.toLowerCase() === String(r).toLowerCase())));
}

function makeContext(user) {
  const have = rank(user.roles);
  return {
    user,
    can(action) {
      const needed = NEEDS[action] || action;
      const index = ROLE_ORDER.indexOf(needed);
      return index >= 0 && have >= index;
    },
    navigate(hash) {
      location.hash = hash;
    },
    setTitle(title) {
      document.title = title ? `${title} · mayaflow` : 'mayaflow';
    },
  };
}

// "#/dags/x/graph?run=r" -> {path: ['dags', 'x', 'graph'], query: URLSearchParams('run=r')}.
export function parseHash(hash) {
  const text = (hash || '').replace(/^#\/?/, '');
  const mark = text.indexOf('?');
  const pathText = mark >= 0 ? text.slice(0, mark) : text;
  const query = new URLSearchParams(mark >= 0 ? text.slice(mark + 1) : '');
  const path = pathText.split('/').filter((s) => s !== '').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return {path, query};
}

function pageFor(path) {
  const first = path[0] || 'dags';
  if (first === 'dags') {
    if (path.length === 1) return 'dags';
    if (path[2] === 'runs' && path[4] === 'tasks' && path.length >= 6) return 'task';
    return 'dag';
  }
  if (first === 'backfills' && path[1] === 'new') return 'backfills';
  return Object.hasOwn(PAGES, first) ? first : 'missing';
}

function renderNav(ctx, page) {
  const nav = document.getElementById('nav');
  const current = page === 'dag' || page === 'task' || page === 'trigger' ? 'dags' : page;
  mount(nav, NAV.filter((item) => !item.needs || ctx.can(item.needs)).map((item) =>
    h('a', {href: item.href, 'aria-current': item.page === current ? 'page' : false, dataset: {test: `nav-${item.page}`},
      onclick: () => closeMenu()}, item.label)));
  nav.hidden = false;
  document.getElementById('who').hidden = false;
  document.getElementById('user-name').textContent = `${ctx.user.username} (${(ctx.user.roles || []).join(', ')})`;
}

function closeMenu() {
  const nav = document.getElementById('nav');
  nav.classList.remove('open');
  document.getElementById('nav-toggle').setAttribute('aria-expanded', 'false');
}

function hideShell() {
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
}

async function loadSession() {
  try {
    const session = await api.get('mayaflow/session', null, {quiet401: true});
    setCsrfToken(session.csrf_token);
    rememberSignedIn(true);
    return {username: session.username, roles: session.roles || []};
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      // MAYAFLOW_API_AUTH=off: no sessions; every request is a Viewer.
      return {username: 'anonymous', roles: ['Viewer'], noAuth: true};
    }
    if (err instanceof ApiError && err.status === 401) {
      rememberSignedIn(false);
      return null;
    }
    throw err;
  }
}

// The yellow line naming the stand-ins the daemon talks to (GET /api/v1/mayaflow/standins): read once
// a page load, and again when the event stream comes back after a drop (a restarted daemon's stand-ins
// have new ports). On a phone it is one line of names; a tap on it shows the endpoints.
const narrowScreen = window.matchMedia('(max-width: 720px)');
let standinsState = 'unread'; // 'unread', 'reading' or 'read'
narrowScreen.addEventListener('change', () => {
  const details = document.querySelector('#standins details');
  if (details) details.open = !narrowScreen.matches;
});
async function showStandins({again = false} = {}) {
  if (standinsState === 'reading' || (standinsState === 'read' && !again)) return;
  standinsState = 'reading';
  const slot = document.getElementById('standins');
  try {
    const answer = await api.get('mayaflow/standins');
    standinsState = 'read';
    const list = (answer.standins || []).filter((s) => s.stand_in);
    if (!list.length) {
      slot.hidden = true;
      slot.replaceChildren();
      return;
    }
    const wasOpen = slot.querySelector('details') ? slot.querySelector('details').open : !narrowScreen.matches;
    mount(slot, h('details', {open: wasOpen, dataset: {test: 'standins-details'}},
      h('summary', {dataset: {test: 'standins-summary'}}, '⚠ Stand-ins, not the real services: ',
        list.map((s, i) => [i ? ' · ' : '', h('strong', {}, s.service)])),
      h('div', {class: 'standins-endpoints'}, list.map((s, i) => [
        i ? ' · ' : '', h('strong', {}, s.service), ' → ', h('code', {}, s.endpoint),
        h('span', {class: 'muted'}, s.variable ? ` (${s.variable})` : ' (a stored connection)')]))));
    slot.hidden = false;
  } catch {
    standinsState = 'unread'; // an older daemon without the route, or signed out: try again later
  }
}

async function route() {
  const id = ++state.renderId;
  closeMenu(); // a route change by Back, a link in the page or the code: the phone menu closes
  if (state.dispose) {
    try {
      state.dispose();
    } catch (err) {
      console.warn('dispose failed', err);
    }
    state.dispose = null;
  }
  const root = document.getElementById('main');
  const parsed = parseHash(location.hash);
  if (!parsed.path.length) {
    location.replace('#/dags');
    return;
  }
  let page = pageFor(parsed.path);
  if (page === 'login') {
    // Signed in already (a bookmark, Back): go where the sign-in would have gone.
    const user = state.user || await loadSession().catch(() => null);
    if (id !== state.renderId) return;
    if (user) {
      state.user = user;
      const next = parsed.query.get('next') || '/dags';
      location.replace(`#${next.startsWith('/') && !next.startsWith('/login') ? next : '/dags'}`);
      return;
    }
  }
  if (page !== 'login' && !state.user) {
    // The page's first requests go out with the session check, not after it (api.js, prefetch).
    if (Object.hasOwn(PAGES, page) && wasSignedIn()) {
      PAGES[page]().then((m) => m.prefetch && m.prefetch(parsed)).catch(() => {});
    }
    try {
      state.user = await loadSession();
    } catch (err) {
      mount(root, errorBox(err));
      return;
    }
    if (id !== state.renderId) return;
    if (!state.user) {
      location.replace(`#/login?next=${encodeURIComponent(location.hash.replace(/^#/, ''))}`);
      return;
    }
  }
  const ctx = makeContext(state.user || {username: '', roles: []});
  ctx.signedIn = (user, csrf) => {
    setCsrfToken(csrf);
    rememberSignedIn(true);
    state.user = user;
  };
  if (page === 'login') hideShell();
  else {
    renderNav(ctx, page);
    showStandins();
  }
  mount(root, loading());
  let module;
  try {
    if (!Object.hasOwn(PAGES, page)) throw new Error('no such page');
    module = await PAGES[page]();
  } catch (err) {
    if (id !== state.renderId) return;
    mount(root, errorBox(new ApiError(404, 'Not Found', `no page at #/${parsed.path.join('/')} (${err.message})`)));
    return;
  }
  if (id !== state.renderId) return;
  ctx.setTitle('');
  try {
    const dispose = await module.render(root, parsed, ctx);
    if (id !== state.renderId) {
      if (typeof dispose === 'function') dispose();
      return;
    }
    state.dispose = typeof dispose === 'function' ? dispose : null;
  } catch (err) {
    if (id === state.renderId) mount(root, errorBox(err));
  }
}

function start() {
  setUnauthorizedHandler(() => {
    state.user = null;
    rememberSignedIn(false);
    const here = location.hash.replace(/^#/, '');
    if (!here.startsWith('/login')) location.hash = `#/login?next=${encodeURIComponent(here || '/dags')}`;
  });
  document.getElementById('sign-out').addEventListener('click', async () => {
    try {
      await api.del('mayaflow/session', {quiet401: true});
    } catch {
      // signed out already
    }
    state.user = null;
    rememberSignedIn(false);
    setCsrfToken(null);
    location.hash = '#/login';
  });
  document.getElementById('nav-toggle').addEventListener('click', () => {
    const nav = document.getElementById('nav');
    const open = nav.classList.toggle('open');
    document.getElementById('nav-toggle').setAttribute('aria-expanded', String(open));
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('mayaflow:reconnected', () => {
    if (state.user) showStandins({again: true});
  });
  route();
}

start();
