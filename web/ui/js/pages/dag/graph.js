// The graph: the DAG's tasks laid out in the page — layers by longest path from the first tasks,
// order within a layer by the barycentre of each node's neighbours (a few sweeps down and up), drawn
// left to right in SVG. Groups and generated tasks fold into one node; hovering (or focusing) a node
// shows its operator and trigger rule; colours are the chosen run's states.
import {enc} from '../../api.js';
import {h, mount, seg} from '../../dom.js';
import {stateInfo} from '../../format.js';
import {subscribe} from '../../live.js';
import {errorBox} from '../../ui.js';
import {foldableIds, foldState, recentRuns, runOption, taskInstances, taskTree, worstState} from './data.js';
import {stateLegend} from './legend.js';

const NODE_W = 180;
const NODE_H = 38;
const GAP_X = 70;
const GAP_Y = 18;
const LABEL_W = NODE_W - 24;  // the label's room: the node less its state bar and margins

// Layers and order for `nodes` (ids) with `edges` ([from, to]); returns Map id -> {layer, index}.
export function layout(nodes, edges) {
  const up = new Map(nodes.map((n) => [n, []]));
  const down = new Map(nodes.map((n) => [n, []]));
  for (const [a, b] of edges) {
    down.get(a).push(b);
    up.get(b).push(a);
  }
  // Longest path from the sources, in topological order (Kahn).
  const indegree = new Map(nodes.map((n) => [n, up.get(n).length]));
  const queue = nodes.filter((n) => indegree.get(n) === 0);
  const layer = new Map(nodes.map((n) => [n, 0]));
  const order = [];
  while (queue.length) {
    const n = queue.shift();
    order.push(n);
    for (const m of down.get(n)) {
      layer.set(m, Math.max(layer.get(m), layer.get(n) + 1));
      indegree.set(m, indegree.get(m) - 1);
      if (indegree.get(m) === 0) queue.push(m);
    }
  }
  for (const n of nodes) if (!order.includes(n)) order.push(n);  // a cycle cannot load, but never loop
  const layers = [];
  for (const n of order) {
    const l = layer.get(n);
    (layers[l] = layers[l] || []).push(n);
  }
  const position = new Map();
  const index = () => layers.forEach((ids) => ids.forEach((id, i) => position.set(id, i)));
  index();
  const sweep = (range, neighbours) => {
    for (const l of range) {
      if (!layers[l]) continue;
      const centre = new Map(layers[l].map((id, i) => {
        const near = neighbours.get(id).filter((x) => position.has(x));
        return [id, near.length ? near.reduce((s, x) => s + position.get(x), 0) / near.length : i];
      }));
      layers[l].sort((a, b) => centre.get(a) - centre.get(b));
      layers[l].forEach((id, i) => position.set(id, i));
    }
  };
  const forward = layers.map((_, i) => i).slice(1);
  const backward = layers.map((_, i) => i).reverse().slice(1);
  for (let i = 0; i < 4; i += 1) {
    sweep(forward, up);
    sweep(backward, down);
  }
  const result = new Map();
  layers.forEach((ids, l) => ids.forEach((id, i) => result.set(id, {layer: l, index: i, size: ids.length})));
  return {positions: result, layers: layers.length, widest: Math.max(1, ...layers.map((ids) => ids.length))};
}

// Shortens each node's label (its full text stays in the <title>, shown on hover) until it fits the
// node: measured, since a character's width depends on the font.
function fitLabels(svg) {
  for (const text of svg.querySelectorAll('text.graph-label')) {
    const full = text.dataset.full;
    const title = text.querySelector('title');
    const node = text.firstChild;
    if (!node || typeof text.getComputedTextLength !== 'function' || text.getComputedTextLength() <= LABEL_W) continue;
    // A folded group's count stays: "homework_subm… (4)".
    const counted = /^(.*?)( \(\d+\))$/.exec(full);
    const name = counted ? counted[1] : full;
    const suffix = counted ? counted[2] : '';
    let keep = name.length - 1;
    while (keep > 1) {
      node.textContent = `${name.slice(0, keep)}…${suffix}`;
      if (text.getComputedTextLength() <= LABEL_W) break;
      keep -= Math.max(1, Math.floor((keep * (text.getComputedTextLength() - LABEL_W)) / text.getComputedTextLength()));
    }
    if (title) title.textContent = full;
  }
}

export function render(root, {dagId, graph, route, base}) {
  const tree = taskTree(graph.tasks);
  // Groups and generated tasks start folded, as in the grid (the same folds: data.js foldState).
  const closed = foldState(dagId, tree);
  const foldable = foldableIds(tree);
  let runs = [];
  let runId = route.query.get('run');
  // Without ?run= the graph shows the newest run, and moves to a new run when one starts.
  let followNewest = !route.query.has('run');
  let instances = new Map();
  const errors = h('div');
  const canvas = h('div', {class: 'graph-wrap', dataset: {test: 'graph'}});
  const tip = h('div', {class: 'tooltip', role: 'tooltip', hidden: true});
  const runSelect = h('select', {'aria-label': 'Run whose states are shown', dataset: {test: 'graph-run'}});
  runSelect.addEventListener('change', () => {
    runId = runSelect.value;
    followNewest = false;
    history.replaceState(null, '', runId ? `${base}/graph?run=${enc(runId)}` : `${base}/graph?run=`);
    loadStates();
  });

  // The visible units: a task, or a folded group / generated set standing for its tasks.
  const units = () => {
    const owner = new Map();  // task id -> unit id
    const list = [];
    const walk = (node) => {
      for (const child of node.children) {
        if (child.kind === 'task') {
          list.push(child);
          owner.set(child.id, child.id);
        } else if (closed.has(child.id)) {
          list.push(child);
          child.tasks.forEach((t) => owner.set(t, child.id));
        } else {
          walk(child);
        }
      }
    };
    walk(tree);
    return {list, owner};
  };

  const showTip = (event, lines) => {
    tip.replaceChildren(...lines.map((line) => h('div', {}, line)));
    tip.hidden = false;
    const rect = event.target.getBoundingClientRect ? event.target.getBoundingClientRect() : {left: 0, bottom: 0};
    tip.style.left = `${Math.min(window.innerWidth - 260, (event.clientX || rect.left) + 12)}px`;
    tip.style.top = `${(event.clientY || rect.bottom) + 12}px`;
  };

  const draw = () => {
    const {list, owner} = units();
    const ids = list.map((u) => u.id);
    const edgeSet = new Set();
    const edges = [];
    for (const task of graph.tasks) {
      for (const upstream of task.upstream_task_ids) {
        const a = owner.get(upstream);
        const b = owner.get(task.task_id);
        if (!a || !b || a === b || edgeSet.has(`${a}\u0000${b}`)) continue;
        edgeSet.add(`${a}\u0000${b}`);
        edges.push([a, b]);
      }
    }
    const {positions, layers, widest} = layout(ids, edges);
    const width = layers * (NODE_W + GAP_X) + 20;
    const height = widest * (NODE_H + GAP_Y) + 20;
    const at = (id) => {
      const p = positions.get(id);
      const offset = ((widest - p.size) * (NODE_H + GAP_Y)) / 2;
      return {x: 10 + p.layer * (NODE_W + GAP_X), y: 10 + offset + p.index * (NODE_H + GAP_Y)};
    };
    const tis = instances.get(runId) || new Map();
    const svg = h('svg', {width, height, viewBox: `0 0 ${width} ${height}`, role: 'group',
      'aria-label': `Graph of ${dagId}`},
    h('defs', {}, h('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7,
      orient: 'auto-start-reverse'}, h('path', {d: 'M 0 0 L 10 5 L 0 10 z', fill: 'currentColor',
      class: 'graph-edge-head'}))),
    edges.map(([a, b]) => {
      const p = at(a);
      const q = at(b);
      const x1 = p.x + NODE_W;
      const y1 = p.y + NODE_H / 2;
      const x2 = q.x - 2;
      const y2 = q.y + NODE_H / 2;
      const mid = (x1 + x2) / 2;
      return h('path', {class: 'graph-edge', d: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`,
        'marker-end': 'url(#arrow)', dataset: {test: 'graph-edge', from: a, to: b}});
    }),
    list.map((unit) => {
      const {x, y} = at(unit.id);
      const isTask = unit.kind === 'task';
      const states = unit.tasks.map((t) => (tis.get(t) || {}).state);
      const info = stateInfo(runId ? (isTask ? states[0] : worstState(states)) : null);
      const label = isTask ? (unit.task.group_id ? `${unit.task.group_id.split('.').pop()}.${unit.label}` : unit.label)
        : `▸ ${unit.label} (${unit.tasks.length})`;
      const lines = isTask
        ? [unit.id, `operator: ${unit.task.operator}`, `trigger rule: ${unit.task.trigger_rule}`,
          runId ? `state: ${info.label}` : 'no run chosen']
        : [`${unit.kind === 'generated' ? 'generated tasks' : 'group'} ${unit.label}: ${unit.tasks.length} tasks`,
          runId ? `state: ${info.label}` : '', 'Enter or click to unfold'];
      const activate = () => {
        if (!isTask) {
          closed.delete(unit.id);
          draw();
        } else if (runId) {
          location.hash = `${base}/runs/${seg(runId)}/tasks/${seg(unit.id)}`;
        }
      };
      return h('g', {class: 'graph-node', transform: `translate(${x} ${y})`, tabindex: 0, role: 'button',
        'aria-label': lines.filter(Boolean).join(', '),
        dataset: {test: isTask ? 'graph-node' : 'graph-group', task: unit.id, state: info.key},
        onclick: activate,
        onkeydown: (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            activate();
          }
        },
        onmouseenter: (e) => showTip(e, lines.filter(Boolean)),
        onmousemove: (e) => showTip(e, lines.filter(Boolean)),
        onmouseleave: () => { tip.hidden = true; },
        onfocus: (e) => showTip(e, lines.filter(Boolean)),
        onblur: () => { tip.hidden = true; }},
      h('rect', {width: NODE_W, height: NODE_H, rx: 6, fill: 'var(--panel)', stroke: info.color,
        'stroke-dasharray': isTask ? null : '5 3'}),
      h('rect', {width: 8, height: NODE_H, rx: 3, fill: info.color}),
      h('text', {x: 16, y: 16, class: 'graph-label', dataset: {full: label}}, label, h('title', {}, label)),
      h('text', {x: 16, y: 31, class: 'muted', style: {fontSize: '10px', fill: 'var(--muted)'}},
        `${info.icon} ${isTask ? unit.task.operator : info.label}`));
    }));
    const openGroups = [];
    const walk = (node) => node.children.forEach((c) => {
      if (c.kind !== 'task' && !closed.has(c.id)) openGroups.push(c);
      if (c.kind !== 'task') walk(c);
    });
    walk(tree);
    mount(canvas, svg);
    fitLabels(svg);
    mount(foldBar, openGroups.length ? [h('span', {class: 'muted small'}, 'Fold: '), openGroups.map((g) =>
      h('button', {type: 'button', class: 'tag', dataset: {test: 'graph-fold'}, onclick: () => {
        closed.add(g.id);
        draw();
      }}, `▾ ${g.label}`))] : []);
  };
  const foldBar = h('div', {class: 'toolbar'});

  const loadStates = async () => {
    try {
      if (runId) instances = await taskInstances(dagId, [runId]);
      errors.replaceChildren();
      draw();
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  };
  const load = async () => {
    try {
      runs = await recentRuns(dagId, 25);
      if (followNewest && runs.length) runId = runs[runs.length - 1].dag_run_id;
      mount(runSelect, h('option', {value: ''}, 'No run (structure only)'), [...runs].reverse().map((r) =>
        runOption(r, r.dag_run_id === runId)));
      await loadStates();
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  };

  const expandAll = h('button', {type: 'button', dataset: {test: 'graph-expand-all'}, onclick: () => {
    closed.clear();
    draw();
  }}, '▾ Expand all');
  const collapseAll = h('button', {type: 'button', dataset: {test: 'graph-collapse-all'}, onclick: () => {
    foldable.forEach((id) => closed.add(id));
    draw();
  }}, '▸ Collapse all');
  runSelect.style.maxWidth = '100%';
  mount(root, h('div', {class: 'toolbar'}, runSelect, foldable.length ? [expandAll, collapseAll] : null,
    h('span', {class: 'muted small'}, 'Hover or Tab to a task for its operator and trigger rule; Enter opens it.')),
  stateLegend(), foldBar, errors, canvas, tip);
  draw();
  load();
  const live = subscribe({dagId, onChange: (events) => {
    if (events.some((e) => e.dag_run_id === runId || e.kind === 'dag_run')) load();
  }, onReset: load, poll: load});
  return () => {
    live.close();
    tip.remove();
  };
}
