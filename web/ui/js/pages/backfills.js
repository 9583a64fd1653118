// Backfills: the list (#/backfills) with each backfill's progress, pause / unpause / cancel, and the
// form (#/backfills/new) whose dry run lists the runs it would create before it is started.
// API: GET/POST /api/v1/backfills, POST /backfills/dry_run, PUT /backfills/{id}/pause|unpause|cancel
// (docs/api-admin.md). Live: the event stream's dag_run changes refresh the list.
import {api, enc} from '../api.js';
import {h, mount, seg} from '../dom.js';
import {dayEnd, dayStart, localDay, localIso, stateInfo, time, timeZoneName, utcText} from '../format.js';
import {busy, button, confirmDialog, errorBox, field, iconLabel, pagedList, parseObject, stateBar, table} from '../ui.js';

const PAGE = 25;

// The order of a progress bar's parts: finished first.
const BAR_STATES = ['success', 'failed', 'running', 'queued'];

export function render(root, route, ctx) {
  if (route.path[1] === 'new') return renderForm(root, route, ctx);
  return renderList(root, route, ctx);
}

// --- the list ---------------------------------------------------------------------------------------

function backfillState(b) {
  if (b.completed_at) return 'completed';
  return b.is_paused ? 'paused' : 'running';
}

function stateText(b) {
  const state = backfillState(b);
  // A completed backfill is green only when every run succeeded: one cancelled or with failed runs says so.
  const failed = (b.progress && b.progress.runs_by_state && b.progress.runs_by_state.failed) || 0;
  const label = state === 'completed' && failed ? `completed, ${failed} failed` : state;
  const icon = state === 'completed' && failed ? '✕' : {completed: '✓', paused: '‖', running: '▶'}[state];
  const color = state === 'completed' && failed ? 'var(--s-failed)'
    : {completed: 'var(--s-success)', paused: 'var(--s-up_for_retry)', running: 'var(--s-running)'}[state];
  return iconLabel(icon, label, color, {dataset: {test: 'backfill-state', state}});
}

// A bar in parts, one per state, each part's width its share of the runs, with the counts as text
// beside it (so it reads without colour).
export function progressBar(progress) {
  const total = (progress && progress.total_runs) || 0;
  const by = (progress && progress.runs_by_state) || {};
  const other = Object.entries(by).filter(([s]) => !BAR_STATES.includes(s)).reduce((n, [, c]) => n + c, 0);
  const done = (by.success || 0) + (by.failed || 0);
  const parts = [...BAR_STATES.map((s) => [s, by[s] || 0]), ['none', other]].filter(([, n]) => n > 0);
  const bar = stateBar(parts, total, {class: 'backfill-bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(total),
    'aria-valuenow': String(done), 'aria-label': `${done} of ${total} runs finished`, style: {height: '.8rem', minWidth: '8rem'}}, {tips: true});
  const words = parts.map(([s, n]) => `${stateInfo(s).icon} ${n} ${s === 'none' ? 'other' : stateInfo(s).label}`);
  return h('div', {dataset: {test: 'backfill-progress', done: String(done), total: String(total)}},
    bar, h('div', {class: 'small muted'}, `${done} of ${total} finished`, words.length ? ` · ${words.join(' · ')}` : ''));
}

function renderList(root, route, ctx) {
  const dagFilter = route.query.get('dag_id') || '';
  const highlight = route.query.get('highlight');

  const act = async (b, verb, actionButton) => {
    if (verb === 'cancel') {
      const ok = await confirmDialog(`Cancel backfill ${b.id}?`,
        `Its queued runs of ${b.dag_id} fail without running; the runs already running finish. This cannot be undone.`,
        {confirmText: 'Cancel backfill', cancelText: 'Keep it', danger: true});
      if (!ok) return;
    }
    await list.act(actionButton, () => api.put(`backfills/${enc(String(b.id))}/${verb}`));
  };

  const actions = (b) => {
    if (!ctx.can('backfill') || b.completed_at) return null;
    const toggle = b.is_paused
      ? button('backfill-unpause', '▶ Unpause', () => act(b, 'unpause', toggle))
      : button('backfill-pause', '‖ Pause', () => act(b, 'pause', toggle));
    const cancel = button('backfill-cancel', '✕ Cancel', () => act(b, 'cancel', cancel), {class: 'danger'});
    return h('div', {class: 'row', style: {gap: '.35rem'}}, toggle, cancel);
  };

  const list = pagedList(root, ctx, {
    title: 'Backfills', test: 'backfill', path: 'backfills', query: {order_by: '-id', dag_id: dagFilter || undefined},
    pageSize: PAGE, offset: Number(route.query.get('offset')) || 0,
    tools: [
      dagFilter ? h('span', {class: 'muted'}, `DAG ${dagFilter} · `, h('a', {href: '#/backfills'}, 'all DAGs')) : null,
      ctx.can('backfill') ? h('a', {class: 'button primary', href: `#/backfills/new${dagFilter ? `?dag_id=${enc(dagFilter)}` : ''}`,
        dataset: {test: 'backfill-new'}}, '+ New backfill') : null,
    ],
    intro: 'Runs of a DAG over a range of past logical dates. A paused backfill starts no more runs; a cancelled one fails its queued runs.',
    columns: [
      {title: 'ID', cell: (b) => String(b.id)},
      {title: 'DAG', cell: (b) => h('a', {href: `#/dags/${seg(b.dag_id)}/runs?run_type=backfill`, title: 'its backfill runs'}, b.dag_id)},
      {title: 'Dates', cell: (b) => h('span', {dataset: {test: 'backfill-dates'}}, time(b.from_date, {short: true}), ' → ',
        time(b.to_date, {short: true}),
        b.run_backwards ? h('span', {class: 'muted small'}, ' (backwards)') : null)},
      {title: 'Reprocess', cell: (b) => b.reprocess_behavior},
      {title: 'At once', cell: (b) => String(b.max_active_runs)},
      {title: 'State', cell: (b) => stateText(b)},
      {title: 'Progress', cell: (b) => progressBar(b.progress)},
      {title: 'Created', cell: (b) => time(b.created_at, {short: true})},
      {title: 'Completed', cell: (b) => time(b.completed_at, {short: true, empty: 'not yet'})},
      {title: '', cell: actions},
    ],
    rowAttrs: (b) => ({dataset: {backfillId: String(b.id), dagId: b.dag_id, state: backfillState(b)},
      style: String(b.id) === highlight ? {outline: '2px solid var(--accent)'} : undefined}),
    empty: 'No backfills yet.',
    // Runs of a backfill change state through the scheduler: reload on those events, at most once a second.
    live: {kinds: ['dag_run', 'task_instance'], dagId: dagFilter || undefined},
  });
  return list.dispose;
}

// --- the form ---------------------------------------------------------------------------------------

// Beyond this many runs the dry run warns, and starting asks again; the page lists the first SHOW_RUNS.
const WARN_RUNS = 1000;
const SHOW_RUNS = 1000;

function plannedRuns(plan) {
  const heading = plan.querySelector('h2');
  const match = heading && /create ([\d,]+) run/.exec(heading.textContent);
  return match ? Number(match[1].replace(/,/g, '')) : 0;
}

// Why a dry run found no date: either every date has a run already (the reprocess choice), or the dates'
// intervals have not ended yet. The last logical date that can run now is the last of a dry run from a
// while ago to now that counts every date (reprocess 'completed'): a day back, then a month, then a year.
async function whyNoRun(body) {
  let last = null;
  const now = Date.now();
  for (const days of [1, 32, 400]) {
    const probe = await api.post('backfills/dry_run', {...body, reprocess_behavior: 'completed', run_backwards: false,
      from_date: new Date(now - days * 86400000).toISOString(), to_date: new Date(now).toISOString()}).catch(() => null);
    const found = (probe && probe.backfills) || [];
    if (found.length) {
      last = found.at(-1).logical_date;
      break;
    }
  }
  const lastTime = last ? Date.parse(last) : null;
  const endOfRange = Date.parse(body.to_date);
  if (lastTime === null || lastTime < Date.parse(body.from_date)) {
    return h('p', {class: 'notice', dataset: {test: 'backfill-not-ended'}},
      'No run: the intervals of these dates have not ended yet, and a backfill only runs dates whose interval has ended. ',
      last ? ['The last logical date that can run now is ', h('strong', {}, time(last)), '.'] : 'No interval of this DAG has ended within the last year.');
  }
  return h('p', {class: 'muted', dataset: {test: 'backfill-all-have-runs'}},
    'Every date in the range already has a run (see the reprocess choice).',
    lastTime < endOfRange ? [' The dates after ', h('strong', {}, time(last)), ' have not ended yet.'] : '');
}

// The range the user chose, kept within the DAG's start_date and end_date (its schedule makes no run
// outside them; the dry run of the API does not look at them). `outside`: why no date is left, when
// none is; `notes`: where the range was cut.
function withinDag(typed, dag) {
  const start = dag.start_date ? Date.parse(dag.start_date) : null;
  const end = dag.end_date ? Date.parse(dag.end_date) : null;
  const from = Date.parse(typed.from_date);
  const to = Date.parse(typed.to_date);
  const say = (test, ...text) => h('p', {class: 'notice', dataset: {test}}, ...text);
  if (start !== null && to < start) {
    return {outside: say('backfill-before-start', `No runs: ${typed.dag_id} starts on `, h('strong', {}, time(dag.start_date)),
      ' (its start_date), after the last date chosen. Choose dates from then on.')};
  }
  if (end !== null && from > end) {
    return {outside: say('backfill-after-end', `No runs: ${typed.dag_id} ends on `, h('strong', {}, time(dag.end_date)),
      ' (its end_date), before the first date chosen. Choose dates up to then.')};
  }
  const body = {...typed};
  const notes = [];
  if (start !== null && from < start) {
    body.from_date = dag.start_date;
    notes.push(say('backfill-before-start', `${typed.dag_id} starts on `, h('strong', {}, time(dag.start_date)),
      ' (its start_date): the dates before it get no run, so the backfill begins there.'));
  }
  if (end !== null && to > end) {
    body.to_date = dag.end_date;
    notes.push(say('backfill-after-end', `${typed.dag_id} ends on `, h('strong', {}, time(dag.end_date)),
      ' (its end_date): the dates after it get no run, so the backfill stops there.'));
  }
  return {body, notes};
}

function renderForm(root, route, ctx) {
  ctx.setTitle('New backfill');
  if (!ctx.can('backfill')) {
    mount(root, h('h1', {}, 'New backfill'),
      errorBox({status: 403, title: 'Forbidden', detail: `starting a backfill needs the User role; ${ctx.user.username} has ${(ctx.user.roles || []).join(', ') || 'none'}`}));
    return undefined;
  }
  const today = new Date();
  const weekAgo = new Date(today.getTime() - 7 * 86400000);
  const yesterday = new Date(today.getTime() - 86400000);
  const dagInput = h('input', {list: 'backfill-dags', required: true, value: route.query.get('dag_id') || '',
    placeholder: 'dag_id', autocomplete: 'off', dataset: {test: 'backfill-dag'}});
  const dagList = h('datalist', {id: 'backfill-dags'});
  const fromInput = h('input', {type: 'date', required: true, value: route.query.get('from') || localDay(weekAgo), dataset: {test: 'backfill-from'}});
  const toInput = h('input', {type: 'date', required: true, value: route.query.get('to') || localDay(yesterday), dataset: {test: 'backfill-to'}});
  const reprocess = h('select', {dataset: {test: 'backfill-reprocess'}},
    h('option', {value: 'none'}, 'none — leave dates that have a run alone'),
    h('option', {value: 'failed'}, 'failed — run failed runs again'),
    h('option', {value: 'completed'}, 'completed — run every finished run again'));
  const maxActive = h('input', {type: 'number', min: '1', max: '10000', value: '10', required: true, dataset: {test: 'backfill-max-active'}});
  const backwards = h('input', {type: 'checkbox', dataset: {test: 'backfill-backwards'}});
  const conf = h('textarea', {rows: '4', placeholder: '{}', spellcheck: 'false', dataset: {test: 'backfill-conf'}, style: {minHeight: '4rem'}});
  const errors = h('div', {'aria-live': 'polite'});
  const plan = h('div', {dataset: {test: 'backfill-plan'}, 'aria-live': 'polite'});
  const dryRun = h('button', {type: 'button', dataset: {test: 'backfill-dry-run'}}, 'Dry run');
  const start = h('button', {type: 'submit', class: 'primary', disabled: true, dataset: {test: 'backfill-start'}}, 'Start backfill');
  let planned = null; // the form's values the shown dry run was for
  let plannedBody = null; // what it sent: those values within the DAG's start and end dates
  // The dates are days of the user's zone: the first from its 00:00, the last to its end. What that is
  // in UTC shows under each, so nobody has to guess which midnight is meant.
  const zone = timeZoneName();
  const fromUtc = h('span', {dataset: {test: 'backfill-from-utc'}});
  const toUtc = h('span', {dataset: {test: 'backfill-to-utc'}});
  const showUtc = () => {
    fromUtc.textContent = fromInput.value ? `from ${utcText(dayStart(fromInput.value))}` : '';
    toUtc.textContent = toInput.value ? `to ${utcText(dayEnd(toInput.value))}` : '';
  };
  fromInput.addEventListener('input', showUtc);
  toInput.addEventListener('input', showUtc);
  showUtc();
  // The DAG's details (start_date, end_date), read once per DAG.
  const details = new Map();
  const dagDetails = (dagId) => {
    if (!details.has(dagId)) {
      details.set(dagId, api.get(`dags/${enc(dagId)}/details`).catch((err) => {
        details.delete(dagId);
        throw err;
      }));
    }
    return details.get(dagId);
  };

  const bodyOrError = () => {
    const text = conf.value.trim();
    const dagRunConf = text ? parseObject(text, 'Invalid conf', 'the run conf', '{"table": "sales"}') : {};
    if (!dagInput.value.trim()) throw {status: 0, title: 'Missing DAG', detail: 'choose the DAG to backfill'};
    if (!fromInput.value || !toInput.value) throw {status: 0, title: 'Missing dates', detail: 'give the first and the last logical date'};
    if (fromInput.value > toInput.value) throw {status: 0, title: 'Dates reversed', detail: 'the first date is after the last'};
    const max = Number(maxActive.value);
    if (!Number.isInteger(max) || max < 1 || max > 10000) throw {status: 0, title: 'Bad number', detail: 'runs at once must be a whole number from 1 to 10000'};
    return {dag_id: dagInput.value.trim(), from_date: localIso(dayStart(fromInput.value)), to_date: localIso(dayEnd(toInput.value)),
      run_backwards: backwards.checked, reprocess_behavior: reprocess.value, max_active_runs: max, dag_run_conf: dagRunConf};
  };

  // Any change to the form makes the shown dry run stale: it must be run again before starting.
  const stale = () => {
    if (!planned) return;
    planned = null;
    plannedBody = null;
    start.disabled = true;
    plan.replaceChildren(h('p', {class: 'muted'}, 'The form changed: run the dry run again.'));
  };
  for (const input of [dagInput, fromInput, toInput, reprocess, maxActive, backwards, conf]) {
    input.addEventListener('input', stale);
    input.addEventListener('change', stale);
  }

  dryRun.addEventListener('click', () => busy(dryRun, async () => {
    plan.replaceChildren();
    const typed = bodyOrError();
    const dag = await dagDetails(typed.dag_id);
    const {body, outside, notes} = withinDag(typed, dag);
    if (outside) {
      // No date of the range lies between the DAG's start and end: nothing to ask the API.
      planned = JSON.stringify(typed);
      plannedBody = null;
      start.disabled = true;
      mount(plan, h('h2', {}, 'No date needs a run'), outside);
      return;
    }
    const answer = await api.post('backfills/dry_run', body);
    const runs = answer.backfills || [];
    planned = JSON.stringify(typed);
    plannedBody = body;
    start.disabled = runs.length === 0;
    const shown = runs.slice(0, SHOW_RUNS);
    mount(plan,
      h('h2', {}, runs.length ? `The backfill would create ${runs.length.toLocaleString('en')} run${runs.length === 1 ? '' : 's'}` : 'No date needs a run'),
      notes,
      runs.length > WARN_RUNS ? h('p', {class: 'banner', role: 'alert', dataset: {test: 'backfill-many'}},
        `That is a lot of runs: ${runs.length.toLocaleString('en')}. Check the dates; starting asks once more.`) : null,
      runs.length ? table([
        {title: '#', cell: (r) => String(runs.indexOf(r) + 1)},
        {title: 'Logical date', cell: (r) => time(r.logical_date)},
        {title: 'DAG', cell: (r) => r.dag_id},
      ], shown, {test: 'backfill-plan-runs', rowAttrs: () => ({dataset: {test: 'backfill-plan-run'}})}) : await whyNoRun(body),
      runs.length > shown.length ? h('p', {class: 'muted'}, `… and ${(runs.length - shown.length).toLocaleString('en')} more, to ${time(runs.at(-1).logical_date)}.`) : null);
  }, errors));

  const form = h('form', {class: 'panel', dataset: {test: 'backfill-form'}, onsubmit: (event) => {
    event.preventDefault();
    busy(start, async () => {
      const typed = bodyOrError();
      const body = plannedBody;
      if (!body || planned !== JSON.stringify(typed)) {
        start.disabled = true;
        throw {status: 0, title: 'Dry run first', detail: 'run the dry run for these values first'};
      }
      const count = plannedRuns(plan);
      if (count > WARN_RUNS && !await confirmDialog(`Start ${count.toLocaleString('en')} runs?`,
        `The backfill creates ${count.toLocaleString('en')} runs of ${body.dag_id}, ${body.max_active_runs} at a time.`,
        {confirmText: 'Start backfill', cancelText: 'Not now'})) return;
      const created = await api.post('backfills', body);
      ctx.navigate(`#/backfills?highlight=${enc(String(created.id))}`);
    }, errors);
  }},
  field('DAG', dagInput), dagList,
  h('div', {class: 'row'},
    field(`First logical date (${zone})`, fromInput, fromUtc),
    field(`Last logical date (${zone}, included)`, toInput, toUtc)),
  h('p', {class: 'field-help', dataset: {test: 'backfill-zone'}}, `Dates are days in your time zone, ${zone}: from 00:00 on the first `
    + 'to the end of the last; each shows below what that is in UTC.'),
  h('div', {class: 'row'},
    field('Reprocess', reprocess, 'what to do with dates that already have a run'),
    field('Runs at once', maxActive)),
  h('label', {class: 'inline', style: {margin: '.6rem 0'}}, backwards, 'Run the newest date first'),
  field('Run conf (JSON object, optional)', conf),
  h('div', {class: 'toolbar'}, dryRun, start, h('a', {href: '#/backfills'}, 'Back to the list')),
  errors, plan);

  mount(root, h('h1', {}, 'New backfill'),
    h('p', {class: 'muted'}, 'Creates a run for each logical date of the DAG’s schedule in the range whose interval has ended. ' +
      'Run the dry run to see the runs it would create; then start it.'),
    form);
  api.get('dags', {limit: 1000, only_active: true, fields: undefined}).then((answer) => {
    mount(dagList, (answer.dags || []).filter((d) => d.schedule_interval).map((d) => h('option', {value: d.dag_id})));
  }).catch(() => {
    // the list only helps typing
  });
  dagInput.focus();
  return undefined;
}
