// The DAG list: every DAG with its schedule, next run, last runs as marks and its runs counted by
// state; search, tag filter, paused filter and the pause switch (User and up); a banner lists the
// DAG files that failed to load. One page of DAGs is two requests made together (the DAGs, and their
// runs in one batch from /mayaflow/dagSummaries for the same selection), whatever the number of
// DAGs; the tag filter offers every DAG's tags (/mayaflow/dagTags, read when the page opens).
import {api, enc, prefetch as prefetchAnswer} from '../api.js';
import {h, mount, seg} from '../dom.js';
import {schedule, stateBadge, stateMark, time} from '../format.js';
import {subscribe} from '../live.js';
import {debounce, errorBox, pager, pauseSwitch} from '../ui.js';

const LIMIT = 100;
const RECENT_RUNS = 10;

const filtersOf = (route) => ({
  search: route.query.get('search') || '',
  tag: route.query.get('tag') || '',
  paused: route.query.get('paused') || '',  // '', 'true', 'false'
  offset: Number(route.query.get('offset') || 0) || 0,
});

// The page of DAGs the filters select, as /dags and /mayaflow/dagSummaries take it.
const selectionOf = (filters) => ({limit: LIMIT, offset: filters.offset, dag_id_pattern: filters.search || undefined,
  tags: filters.tag || undefined, paused: filters.paused || undefined, order_by: 'dag_id'});

const TAGS_QUERY = {limit: 1000};
const IMPORT_ERRORS_QUERY = {limit: 100};

export function prefetch(route) {
  const selection = selectionOf(filtersOf(route));
  prefetchAnswer('dags', selection);
  prefetchAnswer('importErrors', IMPORT_ERRORS_QUERY);
  prefetchAnswer('mayaflow/dagSummaries', {...selection, runs: RECENT_RUNS});
  prefetchAnswer('mayaflow/dagTags', TAGS_QUERY);
}

export function render(root, route, ctx) {
  ctx.setTitle('DAGs');
  const filters = filtersOf(route);
  let dags = [];
  let total = 0;
  let summaries = new Map();
  let allTags = [];
  let loadId = 0;

  const banner = h('div', {dataset: {test: 'import-errors'}});
  const errors = h('div');
  const totals = h('div', {class: 'counts', dataset: {test: 'dag-totals'}});
  const list = h('div');
  const pages = h('div');
  const search = h('input', {type: 'search', placeholder: 'Search DAGs', 'aria-label': 'Search DAGs by id',
    value: filters.search, dataset: {test: 'dag-search'}});
  const tagSelect = h('select', {'aria-label': 'Filter by tag', dataset: {test: 'tag-filter'}});
  const pausedSelect = h('select', {'aria-label': 'Filter by paused', dataset: {test: 'paused-filter'}},
    h('option', {value: ''}, 'All DAGs'), h('option', {value: 'false'}, 'Active'), h('option', {value: 'true'}, 'Paused'));
  pausedSelect.value = filters.paused;

  const keepInUrl = () => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
    const text = query.toString();
    history.replaceState(null, '', `#/dags${text ? `?${text}` : ''}`);
  };

  // Every tag of every DAG (not only those on this page), from /mayaflow/dagTags.
  const loadTags = async () => {
    try {
      const answer = await api.get('mayaflow/dagTags', TAGS_QUERY);
      allTags = answer.tags || [];
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
    const names = new Set(allTags);
    if (filters.tag) names.add(filters.tag);
    mount(tagSelect, h('option', {value: ''}, 'Any tag'),
      [...names].sort().map((tag) => h('option', {value: tag, selected: tag === filters.tag}, tag)));
  };

  const loadSummaries = async () => {
    const asked = dags;
    if (!asked.length) return;
    const answer = await api.get('mayaflow/dagSummaries', {dag_ids: asked.map((d) => d.dag_id).join(','),
      runs: RECENT_RUNS});
    // A load that answered meanwhile drew another page with its own summaries: keep those.
    if (asked === dags) summaries = new Map(answer.dags.map((s) => [s.dag_id, s]));
  };

  // The DAGs of the page, the broken files and the DAGs' runs are asked for at once (dagSummaries
  // selects the same page as /dags from the same parameters) and drawn once, when all have answered.
  const load = async () => {
    const id = ++loadId;
    errors.replaceChildren();
    const selection = selectionOf(filters);
    try {
      const [page, importErrors, batch] = await Promise.all([
        api.get('dags', selection),
        api.get('importErrors', IMPORT_ERRORS_QUERY),
        api.get('mayaflow/dagSummaries', {...selection, runs: RECENT_RUNS}),
      ]);
      if (id !== loadId) return;
      dags = page.dags;
      total = page.total_entries;
      summaries = new Map(batch.dags.map((s) => [s.dag_id, s]));
      renderBanner(importErrors);
      draw();
      // A DAG stored between the two answers has no summary yet: ask for the page's DAGs by id.
      if (dags.some((d) => !summaries.has(d.dag_id))) {
        await loadSummaries();
        if (id !== loadId) return;
        draw();
      }
    } catch (err) {
      if (id === loadId) errors.replaceChildren(errorBox(err));
    }
  };

  const firstLine = (text) => {
    const line = String(text || '').split('\n').find((l) => l.trim()) || '';
    return line.length > 120 ? `${line.slice(0, 119)}…` : line;
  };

  // The banner is redrawn only when the broken files change (a redraw would fold what the user opened).
  let shownErrors = null;
  const errorsKey = (answer) => JSON.stringify((answer.import_errors || []).map((e) => [e.filename, e.timestamp, e.stack_trace]));
  const renderBanner = (answer) => {
    const key = errorsKey(answer);
    if (key === shownErrors) return;
    shownErrors = key;
    const list = answer.import_errors || [];
    if (!list.length) {
      banner.replaceChildren();
      return;
    }
    mount(banner, h('section', {class: 'banner', role: 'alert', 'aria-label': 'Broken DAG files'},
      h('strong', {}, `⚠ ${answer.total_entries} DAG file${answer.total_entries === 1 ? '' : 's'} failed to load`),
      list.map((e) => h('details', {dataset: {test: 'import-error'}, open: list.length === 1},
        h('summary', {}, h('code', {}, e.filename), ' · ', h('span', {class: 'small'}, firstLine(e.stack_trace)), ' · ',
          time(e.timestamp)),
        h('pre', {}, e.stack_trace)))));
  };

  // When the next run starts (its run_after) and which data interval it is for (its logical date, what
  // Airflow's "Next Run" column shows).
  const nextRun = (next) => h('span', {}, time(next.run_after, {short: true}),
    h('div', {class: 'muted small', title: `data interval ${next.data_interval_start} → ${next.data_interval_end} (UTC)`},
      'for ', time(next.logical_date, {short: true})));

  const counts = (summary) => {
    if (!summary) return null;
    return h('div', {class: 'counts', dataset: {test: 'run-counts'}},
      Object.entries(summary.run_counts || {}).filter(([, n]) => n > 0)
        .map(([state, n]) => h('span', {title: `${n} ${state} runs`}, stateBadge(state, {}), ` ${n}`)));
  };

  const draw = () => {
    const stateTotals = {};
    const onPage = new Set(dags.map((d) => d.dag_id));
    for (const s of summaries.values()) {
      if (!onPage.has(s.dag_id)) continue;
      for (const [state, n] of Object.entries(s.run_counts || {})) stateTotals[state] = (stateTotals[state] || 0) + n;
    }
    mount(totals, h('span', {}, `${total} DAG${total === 1 ? '' : 's'}`),
      Object.entries(stateTotals).filter(([, n]) => n).map(([state, n]) =>
        h('span', {dataset: {test: 'state-total', state}}, stateBadge(state), ` ${n}`)));
    const rows = dags.map((dag) => {
      const summary = summaries.get(dag.dag_id);
      const recent = summary ? [...summary.recent_runs].reverse() : [];
      const href = `#/dags/${seg(dag.dag_id)}`;
      return h('tr', {dataset: {test: 'dag-row', dagId: dag.dag_id}},
        h('td', {}, h('a', {href, dataset: {test: 'dag-link'}}, h('strong', {}, dag.dag_id)),
          dag.has_import_errors ? h('span', {class: 'state', style: {color: 'var(--danger)'}, title:
            'its file failed to load at the last parse; this is its last good version'}, '⚠ file broken') : null,
          dag.description ? h('div', {class: 'muted small hide-narrow'}, dag.description) : null,
          h('div', {}, (dag.tags || []).map((tag) => {
            const name = tag.name || tag;
            return h('button', {type: 'button', class: 'tag', onclick: () => setFilter('tag', name)}, name);
          }))),
        h('td', {}, pauseSwitch(dag, ctx, {onChange: draw, onError: (err) => errors.replaceChildren(errorBox(err))})),
        h('td', {class: 'mono small hide-narrow'}, schedule(dag)),
        h('td', {class: 'small hide-narrow', dataset: {test: 'next-run'}}, summary && summary.next_run ? nextRun(summary.next_run)
          : h('span', {class: 'muted', title: !summary ? '' : dag.is_paused && dag.schedule_interval ? 'paused'
          : dag.schedule_interval ? 'no more scheduled runs (past its end date, or @once has run)' : 'runs only when triggered'},
        dag.is_paused && dag.schedule_interval ? 'paused' : '—')),
        h('td', {dataset: {test: 'last-runs'}}, !summary ? h('span', {class: 'muted'}, '…') : recent.length ? recent.map((run) => stateMark(run.state, {
          href: `${href}/grid?run=${enc(run.dag_run_id)}`,
          title: `${run.dag_run_id}: ${run.state}`, test: 'run-mark'})) : h('span', {class: 'muted'}, 'no runs')),
        h('td', {class: 'hide-narrow'}, counts(summary)),
        h('td', {}, ctx.can('trigger') ? h('a', {class: 'button', href: `#/trigger/${seg(dag.dag_id)}`,
          title: `Trigger ${dag.dag_id}`, dataset: {test: 'trigger-button'}}, '▶ Trigger') : null));
    });
    mount(list, h('div', {class: 'table-wrap'}, h('table', {dataset: {test: 'dag-table'}},
      h('thead', {}, h('tr', {}, ['DAG', 'State', 'Schedule', 'Next run', 'Last runs', 'Runs by state', '']
        .map((t, i) => h('th', {scope: 'col', class: [2, 3, 5].includes(i) ? 'hide-narrow' : null}, t)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', {colspan: 7, class: 'muted'},
        filters.search || filters.tag || filters.paused ? 'No DAG matches these filters.' :
          'No DAGs yet: put DAG files in the DAGs folder.'))))));
    mount(pages, pager(total, filters.offset, LIMIT, (offset) => setFilter('offset', offset, false)));
  };

  const setFilter = (name, value, resetOffset = true) => {
    filters[name] = value;
    if (resetOffset && name !== 'offset') filters.offset = 0;
    if (name === 'tag') tagSelect.value = value;
    keepInUrl();
    load();
  };

  search.addEventListener('input', debounce(() => setFilter('search', search.value.trim())));
  tagSelect.addEventListener('change', () => setFilter('tag', tagSelect.value));
  pausedSelect.addEventListener('change', () => setFilter('paused', pausedSelect.value));

  mount(root, h('h1', {}, 'DAGs'), banner,
    h('div', {class: 'toolbar'}, search, tagSelect, pausedSelect, h('span', {class: 'grow'}), totals),
    errors, list, pages);
  loadTags();
  load();

  // Runs change: refresh the marks and counts of the DAGs on the page (one request).
  const live = subscribe({
    onChange: async (events) => {
      if (!events.some((e) => e.kind === 'dag_run' && summaries.has(e.dag_id))) return;
      try {
        await loadSummaries();
        draw();
      } catch (err) {
        errors.replaceChildren(errorBox(err));
      }
    },
    onReset: () => {
      loadTags();
      load();
    },
    poll: load,
    // A DAG file breaking or being fixed makes no event: the broken files are read every 10 s while the
    // stream is held, and a change reloads the list too (a row's "file broken" mark).
    watch: async () => {
      const answer = await api.get('importErrors', IMPORT_ERRORS_QUERY);
      if (errorsKey(answer) !== shownErrors) await load();
    },
  });
  return () => live.close();
}
