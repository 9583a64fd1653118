// The DAG's runs, newest first, filtered by state and run type, a page at a time; it follows the
// event stream. ?run=<id> (a row's "Details", or the grid's run marks) shows that run's details and
// actions (run_panel.js) above the list and outlines its row.
import {api, enc} from '../../api.js';
import {h, mount} from '../../dom.js';
import {duration, durationBetween, stateBadge, time} from '../../format.js';
import {subscribe} from '../../live.js';
import {errorBox, pager, table} from '../../ui.js';
import {runPanel} from './run_panel.js';

const LIMIT = 50;

export function render(root, {dagId, route, base, ctx}) {
  const filters = {state: route.query.get('state') || '', run_type: route.query.get('run_type') || '', offset: 0};
  const highlight = route.query.get('run');
  const listQuery = () => {
    const q = new URLSearchParams();
    if (filters.state) q.set('state', filters.state);
    if (filters.run_type) q.set('run_type', filters.run_type);
    return q;
  };
  const detailsHref = (r) => {
    const q = listQuery();
    q.set('run', r.dag_run_id);
    return `${base}/runs?${q}`;
  };
  const panel = highlight ? runPanel({dagId, runId: highlight, base, ctx,
    closeHref: `${base}/runs${listQuery().toString() ? `?${listQuery()}` : ''}`}) : null;
  const errors = h('div');
  const list = h('div');
  const pages = h('div');
  const stateSelect = h('select', {'aria-label': 'State', dataset: {test: 'runs-state-filter'}},
    [['', 'Any state'], ['queued', 'queued'], ['running', 'running'], ['success', 'success'], ['failed', 'failed']]
      .map(([v, t]) => h('option', {value: v, selected: v === filters.state}, t)));
  const typeSelect = h('select', {'aria-label': 'Run type', dataset: {test: 'runs-type-filter'}},
    [['', 'Any type'], ['scheduled', 'scheduled'], ['manual', 'manual'], ['backfill', 'backfill']]
      .map(([v, t]) => h('option', {value: v, selected: v === filters.run_type}, t)));
  const change = () => {
    filters.state = stateSelect.value;
    filters.run_type = typeSelect.value;
    filters.offset = 0;
    const q = listQuery();
    if (highlight) q.set('run', highlight);
    history.replaceState(null, '', `${base}/runs${q.toString() ? `?${q}` : ''}`);
    load();
  };
  stateSelect.addEventListener('change', change);
  typeSelect.addEventListener('change', change);

  const load = async () => {
    try {
      const page = await api.get(`dags/${enc(dagId)}/dagRuns`, {state: filters.state, run_type: filters.run_type,
        order_by: '-execution_date', limit: LIMIT, offset: filters.offset});
      errors.replaceChildren();
      mount(list, table([
        {title: 'State', cell: (r) => stateBadge(r.state)},
        {title: 'Run', cell: (r) => h('a', {href: `${base}/grid?run=${enc(r.dag_run_id)}`, class: 'mono small'},
          r.dag_run_id)},
        {title: 'Type', cell: (r) => r.run_type},
        {title: 'Logical date', cell: (r) => time(r.logical_date)},
        {title: 'Started', cell: (r) => time(r.start_date), class: 'hide-narrow'},
        {title: 'Ended', cell: (r) => time(r.end_date), class: 'hide-narrow'},
        {title: 'Duration', cell: (r) => (r.start_date ? duration(durationBetween(r.start_date, r.end_date)) : '—')},
        {title: 'Note', cell: (r) => r.note || '', class: 'hide-narrow'},
        {title: 'Data interval', class: 'hide-narrow', cell: (r) => h('span', {class: 'small'},
          time(r.data_interval_start, {short: true}), ' → ', time(r.data_interval_end, {short: true}))},
        {title: '', cell: (r) => h('span', {class: 'row', style: {gap: '.5rem', flexWrap: 'nowrap'}},
          h('a', {href: detailsHref(r), dataset: {test: 'run-details-link', run: r.dag_run_id}}, 'Details'),
          h('a', {href: `${base}/gantt?run=${enc(r.dag_run_id)}`}, 'Gantt'))},
      ], page.dag_runs, {test: 'run-list', empty: 'No runs match.',
        rowAttrs: (r) => ({dataset: {test: 'run-row', run: r.dag_run_id, state: r.state},
          style: r.dag_run_id === highlight ? {outline: '2px solid var(--accent)'} : null})}));
      if (panel) await panel.update(page.dag_runs.find((r) => r.dag_run_id === highlight) || null);
      mount(pages, pager(page.total_entries, filters.offset, LIMIT, (offset) => {
        filters.offset = offset;
        load();
      }));
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  };
  mount(root, panel ? panel.node : null, h('div', {class: 'toolbar'}, stateSelect, typeSelect), errors, list, pages);
  load();
  const live = subscribe({dagId, onChange: (events) => {
    if (events.some((e) => e.kind === 'dag_run')) load();
  }, onReset: load, poll: load});
  return () => live.close();
}
