// The one way pages talk to the daemon: its REST API (docs/api.md). Same-origin requests with the
// session cookie; every request that changes something carries the session's CSRF token; errors
// are RFC 7807 problems, thrown as ApiError with the server's `detail`. A 401 sends the user to the
// login page.

let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

export class ApiError extends Error {
  constructor(status, title, detail, body) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title || `HTTP ${status}`;
    this.detail = detail || title || `the server answered ${status}`;
    this.body = body;
  }
}

// '/api/v1/dags' or 'dags' (relative to /api/v1/), with a query object: arrays repeat the name,
// null/undefined/'' are left out.
export function url(path, query) {
  const base = path.startsWith('/') ? path : `/api/v1/${path}`;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(name, String(v)));
    else params.append(name, String(value));
  }
  const text = params.toString();
  return text ? `${base}?${text}` : base;
}

let onUnauthorized = () => {
  const here = location.hash.replace(/^#/, '');
  if (!here.startsWith('/login')) location.hash = `#/login?next=${encodeURIComponent(here || '/dags')}`;
};
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

async function problemFrom(response) {
  let body = null;
  const text = await response.text().catch(() => '');
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const detail = body && typeof body === 'object' ? body.detail || body.title : text.slice(0, 500);
  return new ApiError(response.status, (body && body.title) || response.statusText, detail, body);
}

// One request. options: {query, body (JSON), accept, signal, quiet401 (no redirect on 401), raw
// (return the Response)}.
export async function request(method, path, options = {}) {
  // X-Requested-With: a 401 then comes without `WWW-Authenticate: Basic`, so the browser does not
  // open its own password dialog (the login page asks instead).
  const headers = {Accept: options.accept || 'application/json', 'X-Requested-With': 'mayaflow-ui'};
  const init = {method, headers, credentials: 'same-origin', signal: options.signal, cache: 'no-store'};
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(url(path, options.query), init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Network error', `the daemon did not answer (${err.message}); is it running?`);
  }
  if (!response.ok) {
    const error = await problemFrom(response);
    if (response.status === 401 && !options.quiet401) onUnauthorized(error);
    throw error;
  }
  if (options.raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get('Content-Type') || '';
  return type.includes('json') ? response.json() : response.text();
}

// Answers asked for ahead of time: a page's first requests, sent beside the session check when the
// UI opens instead of after it (app.js calls the page's prefetch(route)). The first plain GET of the
// same URL takes the answer (or its failure); one nobody takes is dropped after PREFETCH_MS.
const PREFETCH_MS = 5000;
const prefetched = new Map();

export function prefetch(path, query) {
  const key = url(path, query);
  if (prefetched.has(key)) return;
  const answer = request('GET', path, {query, quiet401: true});
  answer.catch(() => {}); // handled by whoever takes it; a failure nobody takes is nobody's concern
  prefetched.set(key, answer);
  setTimeout(() => {
    if (prefetched.get(key) === answer) prefetched.delete(key);
  }, PREFETCH_MS);
}

function takePrefetched(path, query, options) {
  if (options.accept || options.raw || options.signal) return null;
  const key = url(path, query);
  const answer = prefetched.get(key);
  if (!answer) return null;
  prefetched.delete(key);
  // A 401 was asked for before the session was known (an expired one, with the signed-in flag still
  // set); the user may have signed in since, within the 5 s: ask again now rather than take it.
  return answer.catch((err) => {
    if (err instanceof ApiError && err.status === 401) return request('GET', path, {...options, query});
    throw err;
  });
}

export const api = {
  get: (path, query, options = {}) => takePrefetched(path, query, options) || request('GET', path, {...options, query}),
  post: (path, body, options = {}) => request('POST', path, {...options, body}),
  patch: (path, body, options = {}) => request('PATCH', path, {...options, body}),
  put: (path, body, options = {}) => request('PUT', path, {...options, body}),
  del: (path, options = {}) => request('DELETE', path, options),
  url,
};

// Path segments for API URLs: ids may hold '/', '+', ':' and spaces.
export function enc(text) {
  return encodeURIComponent(text);
}
