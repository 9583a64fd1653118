// A DAG's page: its header (schedule, paused, trigger) and tabs — grid, graph, gantt, runs, source,
// schedule — each a module in pages/dag/. The DAG's details and its tasks (with groups and
// generating loops, from /mayaflow/dags/{id}/graph) are read once here and given to the tab.
import {api, enc, prefetch as prefetchAnswer} from '../api.js';
import {h, mount, seg} from '../dom.js';
import {schedule, timeZoneName} from '../format.js';
import {errorBox, loading, pauseSwitch} from '../ui.js';

// Each tab's module, loaded when the tab is first shown (named one by one: the build bundles them).
const TABS = [
  ['grid', 'Grid', () => import('./dag/grid.js')], ['graph', 'Graph', () => import('./dag/graph.js')],
  ['gantt', 'Gantt', () => import('./dag/gantt.js')], ['runs', 'Runs', () => import('./dag/runs.js')],
  ['source', 'Source', () => import('./dag/source.js')], ['schedule', 'Schedule', () => import('./dag/schedule.js')],
];

// The DAG's description: a long one shows its first lines, the rest on "more".
const CLAMP = 280;
function description(text) {
  const style = {overflowWrap: 'anywhere', whiteSpace: 'pre-line', unicodeBidi: 'isolate'};
  if (text.length <= CLAMP) return h('p', {style, dataset: {test: 'dag-description'}}, text);
  const summary = h('summary', {style: {...style, cursor: 'pointer'}});
  const short = () => mount(summary, `${text.slice(0, CLAMP)}… `, h('span', {class: 'muted small'}, '(more)'));
  short();
  return h('details', {class: 'dag-description', dataset: {test: 'dag-description'}, style: {margin: '.5rem 0'},
    ontoggle: (e) => (e.currentTarget.open ? mount(summary, h('span', {class: 'muted small'}, '(less)')) : short())},
  summary, h('p', {style, dataset: {test: 'dag-description-full'}}, text));
}

const tabOf = (route) => TABS.find(([name]) => name === route.path[2]) || TABS[0];
const detailsPath = (dagId) => `dags/${enc(dagId)}/details`;
const graphPath = (dagId) => `mayaflow/dags/${enc(dagId)}/graph`;

// The DAG's details and graph, and what its tab reads first (if the tab says).
export function prefetch(route) {
  const dagId = route.path[1];
  prefetchAnswer(detailsPath(dagId));
  prefetchAnswer(graphPath(dagId));
  tabOf(route)[2]().then((tab) => tab.prefetch && tab.prefetch(route, dagId)).catch(() => {});
}

export async function render(root, route, ctx) {
  const dagId = route.path[1];
  const [tab, , loadTab] = tabOf(route);
  ctx.setTitle(dagId);
  mount(root, loading());
  const [dag, graph] = await Promise.all([api.get(detailsPath(dagId)), api.get(graphPath(dagId))]);
  const base = `#/dags/${seg(dagId)}`;
  const slot = h('div', {dataset: {test: `dag-tab-${tab}`}});
  const errors = h('div');
  // The same switch as the DAG list's (the word alone for a Viewer).
  const pausedSlot = h('span', {dataset: {test: 'dag-paused', paused: String(Boolean(dag.is_paused))}});
  const drawPaused = () => {
    pausedSlot.dataset.paused = String(Boolean(dag.is_paused));
    mount(pausedSlot, pauseSwitch(dag, ctx, {onChange: () => {
      errors.replaceChildren();
      drawPaused();
    }, onError: (err) => errors.replaceChildren(errorBox(err))}));
  };
  mount(root,
    h('div', {class: 'toolbar'},
      h('h1', {style: {margin: 0}}, h('a', {href: '#/dags', class: 'muted', style: {textDecoration: 'none'}}, 'DAGs / '),
        h('span', {dataset: {test: 'dag-title'}}, dagId)),
      pausedSlot,
      h('span', {class: 'grow'}),
      ctx.can('trigger') ? h('a', {class: 'button primary', href: `#/trigger/${seg(dagId)}`,
        dataset: {test: 'trigger-button'}}, '▶ Trigger') : null),
    h('p', {class: 'muted small', style: {margin: '.25rem 0'}},
      `Schedule ${schedule(dag)} · timezone ${dag.timezone || 'UTC'} · version ${dag.version ?? graph.version}`,
      dag.owners && dag.owners.length ? ` · owner ${[].concat(dag.owners).join(', ')}` : '',
      ` · times shown in ${timeZoneName()}`),
    dag.has_import_errors ? h('p', {class: 'banner', role: 'alert', dataset: {test: 'dag-import-error'}},
      '⚠ Its file failed to load at the last parse; this is its last good version. See the banner on ',
      h('a', {href: '#/dags'}, 'the DAG list'), ' for the file, line and error.') : null,
    dag.description ? description(dag.description) : null,
    h('nav', {class: 'tabs', 'aria-label': 'DAG views', role: 'tablist'}, TABS.map(([name, label]) =>
      h('a', {href: `${base}/${name}`, role: 'tab', 'aria-selected': String(name === tab),
        dataset: {test: `tab-${name}`}}, label))),
    errors, slot);
  drawPaused();
  const module = await loadTab();
  try {
    return await module.render(slot, {dag, graph, route, ctx, dagId, base});
  } catch (err) {
    mount(slot, errorBox(err));
    return undefined;
  }
}
