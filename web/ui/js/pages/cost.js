// Cost (#/cost): the bytes BigQuery billed per DAG per day, as a stacked bar chart drawn here in SVG
// (with the same figures in a table, so they read without the chart), and the costliest task tries of
// the month. The dollar figures are the API's estimate (bytes billed / 2^40 × the price per TiB).
// API: /api/v1/mayaflow/costs/dags, /mayaflow/costs/tasks (docs/api-logs.md, "BigQuery cost").
import {api} from '../api.js';
import {h, mount, seg} from '../dom.js';
import {bytes, time, usd} from '../format.js';
import {adaptiveTable, errorBox, loading} from '../ui.js';

const DAY = 86400000;
// Colours for DAGs, told apart by the legend and the table too.
const PALETTE = ['#2f5fd0', '#e8710a', '#1e8e3e', '#d93025', '#9334e6', '#12a4af', '#c5221f', '#b06000', '#5f6368', '#e52592'];
const RANGES = [[7, '7 days'], [30, '30 days'], [90, '90 days']];
// The chart is drawn 960 units wide with 13-unit labels and never shown narrower than this, so its labels
// stay at least 10 px on a phone (where it scrolls sideways, opened at the newest day).
const MIN_WIDTH = 740;
const LABEL = 13;

function utcDay(date) {
  return date.toISOString().slice(0, 10);
}

// A round step for the y axis in the unit bytes() shows (1, 2 or 5 × a power of ten of KiB, MiB, GiB…),
// so the ticks read 100 GiB, 200 GiB rather than 93.1 GiB.
function niceStep(max, ticks = 4) {
  if (max <= 0) return 1;
  let unit = 1;
  while (max / unit >= 1024) unit *= 1024;
  const raw = max / unit / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power * unit;
}

// The chart: one column per day of [start, end), stacked by DAG; each part has a <title> (hover) with
// the DAG, day, bytes billed and cost.
export function costChart(rows, days, colourOf) {
  const width = 960;
  const height = 280;
  const left = 88;
  const right = 88; // the ticks are on both sides: on a phone the chart opens scrolled to its right end
  const top = 12;
  const bottom = 42;
  const perDay = new Map(days.map((d) => [d, []]));
  for (const row of rows) if (perDay.has(row.day)) perDay.get(row.day).push(row);
  const max = Math.max(0, ...days.map((d) => perDay.get(d).reduce((n, r) => n + r.bytes_billed, 0)));
  const step = niceStep(max);
  const top_value = Math.max(step, Math.ceil(max / step) * step);
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  const y = (v) => top + plotH - (plotH * v) / top_value;
  const parts = [];
  for (let v = 0; v <= top_value + 1e-9; v += step) {
    parts.push(h('line', {x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: 'var(--line)', 'stroke-width': 1}));
    parts.push(h('text', {x: left - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': LABEL, fill: 'var(--muted)'}, bytes(v)));
    parts.push(h('text', {x: width - right + 6, y: y(v) + 4, 'text-anchor': 'start', 'font-size': LABEL, fill: 'var(--muted)'}, bytes(v)));
  }
  const labelEvery = Math.ceil(days.length / 10);
  days.forEach((day, i) => {
    const x = left + slot * i + (slot - barW) / 2;
    let base = 0;
    for (const row of perDay.get(day).sort((a, b) => a.dag_id.localeCompare(b.dag_id))) {
      const y0 = y(base);
      const y1 = y(base + row.bytes_billed);
      base += row.bytes_billed;
      parts.push(h('rect', {x, y: y1, width: barW, height: Math.max(0, y0 - y1), fill: colourOf(row.dag_id),
        dataset: {test: 'cost-bar', dagId: row.dag_id, day, bytesBilled: String(row.bytes_billed)}},
      h('title', {}, `${row.dag_id} on ${day}: ${bytes(row.bytes_billed)} billed, ${usd(row.estimated_cost_usd)} (${row.jobs} job${row.jobs === 1 ? '' : 's'})`)));
    }
    if (i % labelEvery === 0) {
      parts.push(h('text', {x: left + slot * i + slot / 2, y: height - bottom + 16, 'text-anchor': 'middle', 'font-size': LABEL, fill: 'var(--muted)'},
        day.slice(5)));
    }
  });
  parts.push(h('line', {x1: left, x2: left, y1: top, y2: top + plotH, stroke: 'var(--muted)'}));
  parts.push(h('text', {x: left + plotW / 2, y: height - 6, 'text-anchor': 'middle', 'font-size': LABEL, fill: 'var(--muted)'}, 'day (UTC)'));
  return h('svg', {viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', preserveAspectRatio: 'xMidYMid meet',
    'aria-label': 'bytes billed by BigQuery per DAG per day', dataset: {test: 'cost-chart'}, style: {maxWidth: `${width}px`, minWidth: `${MIN_WIDTH}px`, display: 'block'}},
  h('title', {}, 'Bytes billed by BigQuery per DAG per day'), parts);
}

export function render(root, route, ctx) {
  ctx.setTitle('Cost');
  const daysWanted = Number(route.query.get('days')) || 30;
  const price = route.query.get('usd_per_tib') || undefined;
  const now = new Date();
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + DAY); // tomorrow 00:00 UTC
  const start = new Date(end.getTime() - daysWanted * DAY);
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const days = [];
  for (let t = start.getTime(); t < end.getTime(); t += DAY) days.push(utcDay(new Date(t)));

  const chartSlot = h('div', {}, loading());
  const tasksSlot = h('div', {}, loading());
  const rangeLinks = h('div', {class: 'row', style: {gap: '.35rem'}, role: 'group', 'aria-label': 'Range'},
    RANGES.map(([n, label]) => h('a', {class: n === daysWanted ? 'button primary' : 'button', href: `#/cost?days=${n}`,
      'aria-current': n === daysWanted ? 'true' : false, dataset: {test: `cost-range-${n}`}}, label)));

  mount(root,
    h('div', {class: 'toolbar'}, h('h1', {class: 'grow', style: {margin: 0}}, 'BigQuery cost'), rangeLinks),
    h('section', {class: 'panel', dataset: {test: 'cost-by-dag'}}, h('h2', {style: {marginTop: 0}}, `Bytes billed per DAG per day, last ${daysWanted} days`), chartSlot),
    h('section', {class: 'panel', style: {marginTop: '1rem'}, dataset: {test: 'cost-top-tasks'}},
      h('h2', {style: {marginTop: 0}}, `The most expensive task tries of ${monthStart.toLocaleString(undefined, {month: 'long', year: 'numeric', timeZone: 'UTC'})}`),
      tasksSlot));

  api.get('mayaflow/costs/dags', {start_date: start.toISOString(), end_date: end.toISOString(), usd_per_tib: price}).then((answer) => {
    const rows = answer.dag_costs || [];
    const dagIds = [...new Set(rows.map((r) => r.dag_id))].sort();
    const colourOf = (dagId) => PALETTE[dagIds.indexOf(dagId) % PALETTE.length];
    const totals = new Map();
    for (const r of rows) {
      const t = totals.get(r.dag_id) || {dag_id: r.dag_id, bytes_billed: 0, estimated_cost_usd: 0, jobs: 0, cache_hits: 0, days: 0};
      t.bytes_billed += r.bytes_billed;
      t.estimated_cost_usd += r.estimated_cost_usd;
      t.jobs += r.jobs;
      t.cache_hits += r.cache_hits;
      t.days += 1;
      totals.set(r.dag_id, t);
    }
    const byCost = [...totals.values()].sort((a, b) => b.bytes_billed - a.bytes_billed);
    const sum = answer.totals || {};
    if (!rows.length) {
      mount(chartSlot, h('p', {class: 'muted', dataset: {test: 'cost-empty'}},
        `No BigQuery job billed anything from ${utcDay(start)} to ${utcDay(new Date(end.getTime() - DAY))}. ` +
        'Cost is recorded when a BigQuery task’s try ends.'));
      return;
    }
    const chartScroll = h('div', {style: {overflowX: 'auto'}, dataset: {test: 'cost-chart-scroll'}}, costChart(rows, days, colourOf));
    mount(chartSlot,
      h('p', {}, h('strong', {dataset: {test: 'cost-total'}}, `${bytes(sum.bytes_billed)} billed · ${usd(sum.estimated_cost_usd)}`),
        h('span', {class: 'muted'}, ` at ${usd(answer.usd_per_tib)} per TiB (an estimate: on-demand list price, no free tier)`)),
      chartScroll,
      h('div', {class: 'row', style: {gap: '.75rem', margin: '.5rem 0'}, dataset: {test: 'cost-legend'}},
        dagIds.map((id) => h('span', {class: 'inline'}, h('span', {'aria-hidden': 'true', style: {display: 'inline-block', width: '.8rem', height: '.8rem',
          background: colourOf(id), borderRadius: '2px', marginRight: '.3rem', verticalAlign: 'middle'}}), id))),
      adaptiveTable([
        {title: 'DAG', cell: (t) => h('a', {href: `#/dags/${seg(t.dag_id)}`}, h('span', {'aria-hidden': 'true', style: {display: 'inline-block', width: '.7rem',
          height: '.7rem', background: colourOf(t.dag_id), borderRadius: '2px', marginRight: '.3rem'}}), t.dag_id)},
        {title: 'Bytes billed', cell: (t) => bytes(t.bytes_billed)},
        {title: 'Estimated', cell: (t) => usd(t.estimated_cost_usd)},
        {title: 'Jobs', cell: (t) => String(t.jobs)},
        {title: 'Cache hits', cell: (t) => String(t.cache_hits)},
        {title: 'Days', cell: (t) => String(t.days)},
      ], byCost, {test: 'cost-dag-table', rowAttrs: (t) => ({dataset: {test: 'cost-dag-row', dagId: t.dag_id}})}));
    chartScroll.scrollLeft = chartScroll.scrollWidth; // the newest day first, where the chart is wider than the screen
  }).catch((err) => mount(chartSlot, errorBox(err)));

  api.get('mayaflow/costs/tasks', {start_date: monthStart.toISOString(), end_date: end.toISOString(), limit: 10, usd_per_tib: price}).then((answer) => {
    const rows = answer.task_costs || answer.tasks || answer.costs || [];
    // What each try cost comes right after the task; the run and the job id are shortened to one line
    // (their whole text on hover).
    mount(tasksSlot, adaptiveTable([
      {title: 'DAG', cell: (r) => h('a', {href: `#/dags/${seg(r.dag_id)}`}, r.dag_id)},
      {title: 'Task', cell: (r) => h('a', {href: `#/dags/${seg(r.dag_id)}/runs/${seg(r.dag_run_id)}/tasks/${seg(r.task_id)}`}, r.task_id)},
      {title: 'Bytes billed', cell: (r) => h('span', {dataset: {test: 'cost-task-bytes'}}, bytes(r.bytes_billed))},
      {title: 'Estimated', cell: (r) => h('span', {dataset: {test: 'cost-task-usd'}}, usd(r.estimated_cost_usd))},
      {title: 'Run', cell: (r) => h('span', {class: 'small clip', title: r.dag_run_id}, r.dag_run_id)},
      {title: 'Try', cell: (r) => String(r.try_number)},
      {title: 'Job', cell: (r) => (r.job_id ? h('code', {class: 'small clip', style: {maxWidth: '9rem'}, title: r.job_id,
        dataset: {test: 'cost-task-job'}}, r.job_id) : h('span', {class: 'muted'}, '—'))},
      {title: 'Cache', cell: (r) => (r.cache_hit ? 'hit' : '')},
      {title: 'Ended', cell: (r) => time(r.end_date, {short: true})},
    ], rows, {test: 'cost-task-table', empty: 'No BigQuery job this month yet.',
      rowAttrs: (r) => ({dataset: {test: 'cost-task-row', dagId: r.dag_id, taskId: r.task_id}})}),
    answer.total_entries > rows.length ? h('p', {class: 'muted small'}, `The 10 costliest of ${answer.total_entries} tries.`) : null);
  }).catch((err) => mount(tasksSlot, errorBox(err)));
  return undefined;
}
