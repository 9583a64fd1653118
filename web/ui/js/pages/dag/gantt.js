// The Gantt chart of one run: each task instance a bar from its start to its end (or now, while it
// runs), on the run's time line, coloured by state with the state's name in the label.
import {enc} from '../../api.js';
import {h, mount, seg} from '../../dom.js';
import {duration, durationBetween, stateInfo, time, utcText} from '../../format.js';
import {subscribe} from '../../live.js';
import {errorBox} from '../../ui.js';
import {recentRuns, taskInstances} from './data.js';

export function render(root, {dagId, graph, route, base}) {
  let runId = route.query.get('run');
  let runs = [];
  const errors = h('div');
  const chart = h('div', {class: 'panel', dataset: {test: 'gantt'}});
  const runSelect = h('select', {'aria-label': 'Run', dataset: {test: 'gantt-run'}});
  runSelect.addEventListener('change', () => {
    runId = runSelect.value;
    history.replaceState(null, '', `${base}/gantt?run=${enc(runId)}`);
    load();
  });

  const draw = (run, tis) => {
    const order = new Map(graph.tasks.map((t, i) => [t.task_id, i]));
    const list = [...tis.values()].sort((a, b) => {
      const sa = a.start_date ? Date.parse(a.start_date) : Infinity;
      const sb = b.start_date ? Date.parse(b.start_date) : Infinity;
      return sa - sb || (order.get(a.task_id) ?? 0) - (order.get(b.task_id) ?? 0);
    });
    const starts = list.filter((t) => t.start_date).map((t) => Date.parse(t.start_date));
    const ends = list.map((t) => (t.end_date ? Date.parse(t.end_date) : t.start_date ? Date.now() : null)).filter(Boolean);
    if (!starts.length) {
      mount(chart, h('p', {class: 'muted'}, 'No task of this run has started yet.'));
      return;
    }
    const from = Math.min(...starts);
    const to = Math.max(from + 1000, ...ends);
    const span = to - from;
    mount(chart,
      h('p', {class: 'muted small'}, 'From ', time(new Date(from)), ' to ', time(new Date(to)),
        ` · ${duration(span / 1000)} · run ${run ? run.state : ''}`),
      list.map((ti) => {
        const info = stateInfo(ti.state);
        const start = ti.start_date ? Date.parse(ti.start_date) : null;
        const end = ti.end_date ? Date.parse(ti.end_date) : (start ? Date.now() : null);
        const seconds = ti.duration ?? durationBetween(ti.start_date, ti.end_date);
        const title = `${ti.task_id} · ${info.label} · ${duration(seconds)} · ${utcText(ti.start_date)} → ${
          ti.end_date ? utcText(ti.end_date) : 'now'}`;
        return h('div', {class: 'gantt-row', dataset: {test: 'gantt-row', task: ti.task_id, state: info.key}},
          h('a', {href: `${base}/runs/${seg(ti.dag_run_id)}/tasks/${seg(ti.task_id)}`, class: 'small',
            style: {overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap'}, title: ti.task_id}, ti.task_id),
          h('div', {class: 'gantt-track', title},
            start ? h('div', {class: 'gantt-bar', style: {left: `${((start - from) / span) * 100}%`,
              width: `${Math.max(0.4, ((end - start) / span) * 100)}%`, background: info.color}}) : null,
            h('span', {class: 'small', style: {position: 'absolute', right: '.3rem', top: '0'}},
              `${info.icon} ${info.label} ${start ? duration(seconds) : ''}`)));
      }));
  };

  const load = async () => {
    try {
      runs = await recentRuns(dagId, 25);
      if (!runId && runs.length) runId = runs[runs.length - 1].dag_run_id;
      mount(runSelect, [...runs].reverse().map((r) => h('option', {value: r.dag_run_id, selected: r.dag_run_id === runId},
        `${r.dag_run_id} (${r.state})`)));
      if (!runId) {
        mount(chart, h('p', {class: 'muted'}, 'No runs yet.'));
        return;
      }
      const tis = (await taskInstances(dagId, [runId])).get(runId) || new Map();
      errors.replaceChildren();
      draw(runs.find((r) => r.dag_run_id === runId), tis);
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  };
  mount(root, h('div', {class: 'toolbar'}, runSelect), errors, chart);
  load();
  const live = subscribe({dagId, onChange: load, onReset: load, poll: load});
  return () => live.close();
}
