// The DAG's next scheduled runs, as the scheduler's timetable computes them.
import {api, enc} from '../../api.js';
import {h, mount} from '../../dom.js';
import {schedule, time, timeZoneName} from '../../format.js';
import {table} from '../../ui.js';

export async function render(root, {dagId, dag}) {
  const answer = await api.get(`mayaflow/dags/${enc(dagId)}/schedule`, {count: 10});
  mount(root,
    h('p', {}, `Schedule ${schedule(dag)} in ${answer.timezone || 'UTC'}; catchup ${answer.catchup ? 'on' : 'off'}.`,
      answer.is_paused ? h('strong', {}, ' The DAG is paused: these runs wait until it is unpaused.') : null,
      h('span', {class: 'muted small'}, ` Times in ${timeZoneName()}; UTC on hover.`)),
    answer.next_runs.length
      ? table([
        {title: '#', cell: (_r) => ''},
        {title: 'Logical date', cell: (r) => time(r.logical_date)},
        {title: 'Data interval', cell: (r) => h('span', {}, time(r.data_interval_start), ' → ', time(r.data_interval_end))},
        {title: 'Runs after', cell: (r) => time(r.run_after)},
      ].map((c, i) => (i === 0 ? {...c, cell: (r) => String(answer.next_runs.indexOf(r) + 1)} : c)),
      answer.next_runs, {test: 'schedule-list', rowAttrs: () => ({dataset: {test: 'schedule-row'}})})
      : h('p', {class: 'muted', dataset: {test: 'schedule-list'}},
        dag.schedule_interval ? 'No more scheduled runs (past the end date, or @once already ran).'
          : 'This DAG has no schedule: it runs only when triggered.'));
}
