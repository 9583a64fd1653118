// The Gantt chart of one run: a row per task instance with a bar for each of its tries, from the try's
// start to its end (or now, while it runs), coloured by the state the try ended in, on the run's own
// time line (the run's start to its end, or now). A task's earlier tries come from the API's
// …/taskInstances/{task_id}/tries, read only for tasks past their first try (for the others the task
// instance is its only try) and kept while they cannot change.
import {api, enc} from '../../api.js';
import {h, mount, seg} from '../../dom.js';
import {duration, durationBetween, stateInfo, time, utcText} from '../../format.js';
import {subscribe} from '../../live.js';
import {errorBox} from '../../ui.js';
import {recentRuns, runOption, taskInstances} from './data.js';

const FINISHED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

const ms = (value) => (value ? Date.parse(value) : null);

export function render(root, {dagId, graph, route, base}) {
  let runId = route.query.get('run');
  const followNewest = !runId;
  let runs = [];
  const triesCache = new Map();  // `${run}\u0000${task}` -> {key, tries}
  const errors = h('div');
  const chart = h('div', {class: 'panel', dataset: {test: 'gantt'}});
  const runSelect = h('select', {'aria-label': 'Run', dataset: {test: 'gantt-run'}, style: {maxWidth: '100%'}});
  runSelect.addEventListener('change', () => {
    runId = runSelect.value;
    history.replaceState(null, '', `${base}/gantt?run=${enc(runId)}`);
    load();
  });

  // Each task instance's tries, oldest first: the task instance itself when it is on its first try.
  const triesOf = async (ti) => {
    if (!(ti.try_number > 1)) return [ti];
    const cacheKey = `${ti.dag_run_id}\u0000${ti.task_id}`;
    const key = `${ti.try_number}|${ti.state}|${ti.end_date}`;
    const cached = triesCache.get(cacheKey);
    if (cached && cached.key === key) return cached.tries;
    let answer;
    try {
      answer = await api.get(`dags/${enc(dagId)}/dagRuns/${enc(ti.dag_run_id)}/taskInstances/${enc(ti.task_id)}/tries`,
        {limit: 1000});
    } catch (err) {
      if (err && err.status === 404) return [ti];  // a daemon without /tries: the latest try only
      throw err;
    }
    const tries = (answer.task_instances || []).filter((t) => t.start_date || t.try_number === ti.try_number);
    if (!tries.length) tries.push(ti);
    if (FINISHED.has(ti.state)) triesCache.set(cacheKey, {key, tries});
    return tries;
  };

  const draw = (run, rows) => {
    const now = Date.now();
    const starts = rows.flatMap(({tries}) => tries.map((t) => ms(t.start_date)).filter(Boolean));
    if (!starts.length && !(run && run.start_date)) {
      mount(chart, h('p', {class: 'muted'}, 'No task of this run has started yet.'));
      return;
    }
    // The run's own span; its tasks' when the run has no start (a run cleared and not yet started).
    const ends = rows.flatMap(({tries}) => tries.map((t) => ms(t.end_date) || (t.start_date ? now : null)).filter(Boolean));
    const from = run && run.start_date ? Math.min(ms(run.start_date), ...starts) : Math.min(...starts);
    const runEnd = run && run.end_date ? ms(run.end_date) : (run && run.start_date ? now : null);
    const to = Math.max(from + 1000, runEnd || 0, ...ends);
    const span = to - from;
    const runSeconds = run && run.start_date ? durationBetween(run.start_date, run.end_date) : span / 1000;
    const info = stateInfo(run ? run.state : null);
    mount(chart,
      h('p', {class: 'muted small', dataset: {test: 'gantt-span'}}, 'Run from ', time(run && run.start_date ? run.start_date
        : new Date(from)), ' to ', run && run.end_date ? time(run.end_date) : h('span', {}, 'now'),
      ` · ${duration(runSeconds)} · run ${info.icon} ${run ? info.label : ''}`,
      // A cleared run starts again: its tasks' earlier tries lie before its start.
      run && run.start_date && starts.length && Math.min(...starts) < ms(run.start_date) - 1000
        ? h('span', {dataset: {test: 'gantt-earlier'}}, ' · earlier tries from ', time(new Date(Math.min(...starts))),
          ' (before the run was cleared and started again)') : null),
      rows.map(({ti, tries}) => {
        const last = stateInfo(ti.state);
        const seconds = ti.duration ?? (ti.start_date ? durationBetween(ti.start_date, ti.end_date) : null);
        return h('div', {class: 'gantt-row', dataset: {test: 'gantt-row', task: ti.task_id, state: last.key,
          tries: tries.length}},
        h('a', {href: `${base}/runs/${seg(ti.dag_run_id)}/tasks/${seg(ti.task_id)}`, class: 'small',
          style: {overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap'}, title: ti.task_id}, ti.task_id),
        h('div', {class: 'gantt-track'},
          tries.map((t, i) => {
            const start = ms(t.start_date);
            if (!start) return null;
            const end = ms(t.end_date) || now;
            const tInfo = stateInfo(t.state);
            const n = t.try_number || i + 1;
            const title = `${ti.task_id} · try ${n} · ${tInfo.label} · ${duration(t.duration ?? durationBetween(t.start_date,
              t.end_date))} · ${utcText(t.start_date)} → ${t.end_date ? utcText(t.end_date) : 'now'}`;
            return h('a', {class: 'gantt-bar', title, 'aria-label': title,
              href: `${base}/runs/${seg(ti.dag_run_id)}/tasks/${seg(ti.task_id)}?try=${n}`,
              dataset: {test: 'gantt-bar', try: n, state: tInfo.key},
              style: {left: `${((start - from) / span) * 100}%`, width: `${Math.max(0.4, ((end - start) / span) * 100)}%`,
                background: tInfo.color, outline: tries.length > 1 ? '1px solid var(--panel)' : null}});
          }),
          h('span', {class: 'small', style: {position: 'absolute', right: '.3rem', top: '0', pointerEvents: 'none',
            padding: '0 .25rem', borderRadius: '3px', background: 'color-mix(in srgb, var(--panel) 85%, transparent)'}},
            `${last.icon} ${last.label} ${ti.start_date ? duration(seconds) : ''}${tries.length > 1 ? ` · ${tries.length} tries` : ''}`)));
      }));
  };

  let loading = false;
  let again = false;
  const load = async () => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    try {
      runs = await recentRuns(dagId, 25);
      if (followNewest && runs.length) runId = runs[runs.length - 1].dag_run_id;
      mount(runSelect, [...runs].reverse().map((r) => runOption(r, r.dag_run_id === runId)));
      if (!runId) {
        mount(chart, h('p', {class: 'muted'}, 'No runs yet.'));
        return;
      }
      const tis = (await taskInstances(dagId, [runId])).get(runId) || new Map();
      const order = new Map(graph.tasks.map((t, i) => [t.task_id, i]));
      const list = [...tis.values()];
      const rows = await Promise.all(list.map(async (ti) => ({ti, tries: await triesOf(ti)})));
      const firstStart = ({tries}) => Math.min(Infinity, ...tries.map((t) => ms(t.start_date)).filter(Boolean));
      rows.sort((a, b) => firstStart(a) - firstStart(b) || (order.get(a.ti.task_id) ?? 0) - (order.get(b.ti.task_id) ?? 0));
      errors.replaceChildren();
      const run = runs.find((r) => r.dag_run_id === runId)
        || await api.get(`dags/${enc(dagId)}/dagRuns/${enc(runId)}`).catch(() => null);
      draw(run, rows);
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    } finally {
      loading = false;
      if (again) {
        again = false;
        load();
      }
    }
  };
  mount(root, h('div', {class: 'toolbar'}, runSelect), errors, chart);
  load();
  const live = subscribe({dagId, onChange: (events) => {
    if (events.some((e) => e.dag_run_id === runId || (followNewest && e.kind === 'dag_run'))) load();
  }, onReset: load, poll: load});
  return () => live.close();
}
