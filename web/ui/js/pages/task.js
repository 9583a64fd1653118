// A task instance: its tries (the log of each), state, durations, its templated parameters rendered
// for the run with secrets masked (and as written), its result (XCom return_value) with the
// BigQuery job and bytes billed, the log with a live tail while the try runs, search and download,
// the executed notebook, and clear / mark success / mark failed for Op and Admin.
import {api, ApiError, enc} from '../api.js';
import {h, mount, seg} from '../dom.js';
import {bytes, duration, durationBetween, stateBadge, time} from '../format.js';
import {subscribe} from '../live.js';
import {confirmDialog, errorBox, modal} from '../ui.js';

const TAIL_MS = 1500;
const FINISHED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);

export async function render(root, route, ctx) {
  const [, dagId, , runId, , taskId] = route.path;
  ctx.setTitle(`${taskId} · ${dagId}`);
  const base = `dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}`;
  const dagHref = `#/dags/${seg(dagId)}`;
  let ti = await api.get(base);
  let chosenTry = Number(route.query.get('try')) || ti.try_number || 1;
  const task = await api.get(`dags/${enc(dagId)}/tasks/${enc(taskId)}`).catch(() => null);

  const errors = h('div', {'aria-live': 'polite'});
  const summary = h('div');
  const tries = h('div', {class: 'tabs', role: 'tablist', 'aria-label': 'Tries'});
  const logBox = h('pre', {class: 'log', tabindex: 0, 'aria-label': 'Log', dataset: {test: 'log-view'}});
  const logStatus = h('span', {class: 'muted small', dataset: {test: 'log-status'}});
  const search = h('input', {type: 'search', placeholder: 'Search the log', 'aria-label': 'Search the log',
    dataset: {test: 'log-search'}});
  const onlyMatches = h('input', {type: 'checkbox', 'aria-label': 'Only matching lines'});
  const matchCount = h('span', {class: 'muted small', dataset: {test: 'log-matches'}});
  const result = h('div', {dataset: {test: 'task-result'}});
  let logText = '';
  let token = null;
  let tailTimer = null;
  let disposed = false;

  const drawLog = () => {
    const needle = search.value;
    if (!needle) {
      logBox.textContent = logText || '(nothing logged yet)';
      matchCount.textContent = '';
      return;
    }
    const lower = needle.toLowerCase();
    const lines = logText.split('\n');
    const nodes = [];
    let matches = 0;
    for (const line of lines) {
      const at = line.toLowerCase().indexOf(lower);
      if (at < 0) {
        if (!onlyMatches.checked) nodes.push(line, '\n');
        continue;
      }
      let rest = line;
      let lowerRest = rest.toLowerCase();
      let i;
      while ((i = lowerRest.indexOf(lower)) >= 0) {
        matches += 1;
        nodes.push(rest.slice(0, i), h('mark', {}, rest.slice(i, i + needle.length)));
        rest = rest.slice(i + needle.length);
        lowerRest = lowerRest.slice(i + needle.length);
      }
      nodes.push(rest, '\n');
    }
    mount(logBox, nodes);
    matchCount.textContent = `${matches} match${matches === 1 ? '' : 'es'}`;
    const first = logBox.querySelector('mark');
    if (first) first.scrollIntoView({block: 'nearest'});
  };
  search.addEventListener('input', drawLog);
  onlyMatches.addEventListener('change', drawLog);

  const running = () => chosenTry === ti.try_number && !FINISHED.has(ti.state) && ti.state !== null;
  const readLog = async () => {
    const answer = await api.get(`${base}/logs/${chosenTry}`, token ? {token} : {full_content: 'true'});
    token = answer.continuation_token || token;
    if (answer.content) {
      const atBottom = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 20;
      logText += answer.content;
      drawLog();
      if (atBottom) logBox.scrollTop = logBox.scrollHeight;
    }
  };
  const tail = async () => {
    clearTimeout(tailTimer);
    tailTimer = null;
    if (disposed) return;
    try {
      await readLog();
      logStatus.textContent = running() ? '● live: following the log' : '';
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) errors.replaceChildren(errorBox(err));
    }
    if (running() && !disposed) tailTimer = setTimeout(tail, TAIL_MS);
  };
  const openTry = (n) => {
    chosenTry = n;
    logText = '';
    token = null;
    logBox.textContent = 'Loading…';
    history.replaceState(null, '', `#/dags/${seg(dagId)}/runs/${seg(runId)}/tasks/${seg(taskId)}?try=${n}`);
    drawTries();
    tail();
  };

  const drawTries = () => {
    const count = Math.max(1, ti.try_number || 1);
    mount(tries, Array.from({length: count}, (_, i) => i + 1).map((n) => h('a', {href: '#', role: 'tab',
      'aria-selected': String(n === chosenTry), dataset: {test: 'try-tab', try: n},
      onclick: (e) => {
        e.preventDefault();
        openTry(n);
      }}, `Try ${n}${n === ti.try_number ? ' (latest)' : ''}`)));
  };

  const download = async () => {
    try {
      const text = await api.get(`${base}/logs/${chosenTry}`, {full_content: 'true'}, {accept: 'text/plain'});
      const url = URL.createObjectURL(new Blob([text], {type: 'text/plain'}));
      const a = h('a', {href: url, download: `${dagId}__${runId}__${taskId}__attempt=${chosenTry}.log`});
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 5000);
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  };

  const actions = () => {
    if (!ctx.can('clear')) return null;
    const clear = h('button', {type: 'button', dataset: {test: 'clear-button'}, onclick: () => clearTask()}, '↻ Clear');
    const success = h('button', {type: 'button', dataset: {test: 'mark-success-button'},
      onclick: () => mark('success')}, '✓ Mark success');
    const failed = h('button', {type: 'button', class: 'danger', dataset: {test: 'mark-failed-button'},
      onclick: () => mark('failed')}, '✕ Mark failed');
    return h('div', {class: 'toolbar', dataset: {test: 'task-actions'}}, clear, success, failed);
  };

  const clearTask = async () => {
    const downstream = h('input', {type: 'checkbox', id: 'clear-downstream', checked: true,
      dataset: {test: 'clear-downstream'}});
    const onlyFailed = h('input', {type: 'checkbox', id: 'clear-only-failed', dataset: {test: 'clear-only-failed'}});
    const preview = h('div', {class: 'small'});
    const body = (include) => ({dry_run: true, only_failed: onlyFailed.checked, task_ids: [taskId], dag_run_id: runId,
      include_downstream: include});
    const showPreview = async () => {
      try {
        const answer = await api.post(`dags/${enc(dagId)}/clearTaskInstances`, body(downstream.checked));
        mount(preview, h('p', {}, `Clears ${answer.task_instances.length} task instance(s):`),
          h('ul', {}, answer.task_instances.slice(0, 30).map((t) => h('li', {class: 'mono'}, t.task_id))));
      } catch (err) {
        mount(preview, errorBox(err));
      }
    };
    downstream.addEventListener('change', showPreview);
    onlyFailed.addEventListener('change', showPreview);
    showPreview();
    const go = await modal(`Clear ${taskId}`, (close) => h('div', {},
      h('p', {}, 'Clearing makes the task run again (and, with downstream, the tasks after it).'),
      h('label', {class: 'inline'}, downstream, ' Downstream tasks too'),
      h('label', {class: 'inline'}, onlyFailed, ' Only failed ones'),
      preview,
      h('div', {class: 'dialog-actions'},
        h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'),
        h('button', {type: 'button', class: 'primary', dataset: {test: 'clear-confirm'}, onclick: () => close(true)},
          'Clear'))), {test: 'clear-dialog'});
    if (!go) return;
    try {
      await api.post(`dags/${enc(dagId)}/clearTaskInstances`, {...body(downstream.checked), dry_run: false});
      await refresh();
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  };

  const mark = async (state) => {
    if (!await confirmDialog(`Mark ${taskId} ${state}`, `Set ${taskId} in ${runId} to ${state}? A running try is ended.`,
      {confirmText: `Mark ${state}`, danger: state === 'failed'})) return;
    try {
      await api.patch(base, {new_state: state, dry_run: false});
      await refresh();
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  };

  const drawSummary = () => {
    const secondsRun = ti.duration ?? (ti.start_date ? durationBetween(ti.start_date, ti.end_date) : null);
    mount(summary,
      h('div', {class: 'toolbar'}, h('h1', {style: {margin: 0}}, h('a', {href: dagHref, class: 'muted',
        style: {textDecoration: 'none'}}, `${dagId} / `), taskId), stateBadge(ti.state)),
      h('p', {class: 'small'}, 'Run ', h('a', {href: `${dagHref}/grid?run=${enc(runId)}`, class: 'mono'}, runId)),
      actions(),
      h('dl', {class: 'kv panel', dataset: {test: 'task-summary'}},
        h('dt', {}, 'State'), h('dd', {}, stateBadge(ti.state)),
        h('dt', {}, 'Try'), h('dd', {}, `${ti.try_number} of ${ti.max_tries + (ti.max_tries >= ti.try_number ? 0 : 1)}`),
        h('dt', {}, 'Operator'), h('dd', {}, ti.operator || (task && task.operator_name) || '—'),
        h('dt', {}, 'Started'), h('dd', {}, time(ti.start_date)),
        h('dt', {}, 'Ended'), h('dd', {}, time(ti.end_date)),
        h('dt', {}, 'Duration'), h('dd', {dataset: {test: 'task-duration'}}, duration(secondsRun)),
        h('dt', {}, 'Pool'), h('dd', {}, `${ti.pool} (${ti.pool_slots} slot${ti.pool_slots === 1 ? '' : 's'})`),
        h('dt', {}, 'Host'), h('dd', {}, ti.hostname || '—'),
        task ? [h('dt', {}, 'Trigger rule'), h('dd', {}, task.trigger_rule)] : null,
        ti.note ? [h('dt', {}, 'Note'), h('dd', {}, ti.note)] : null));
  };

  const drawResult = async () => {
    let value = null;
    try {
      // Listed first: asking for a result a task has not returned would be a 404 in the console.
      const entries = await api.get(`${base}/xcomEntries`);
      if ((entries.xcom_entries || []).some((e) => e.key === 'return_value')) {
        const entry = await api.get(`${base}/xcomEntries/return_value`, {stringify: 'false'});
        value = entry.value;
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        mount(result, errorBox(err));
        return;
      }
    }
    const parts = [h('h2', {}, 'Result')];
    if (value === null || value === undefined) parts.push(h('p', {class: 'muted'}, 'No result (yet).'));
    else {
      if (value && typeof value === 'object' && value.job_id) {
        const job = String(value.job_id);
        // The console's link needs the job's project and location: the task's rendered project_id and
        // location when it sets them. None when BigQuery is a stand-in (the console does not know its jobs).
        const [fields, standins] = await Promise.all([
          api.get(`mayaflow/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}/rendered`)
            .then((a) => a.rendered_fields || {}).catch(() => ({})),
          api.get('mayaflow/standins').then((a) => a.standins || []).catch(() => []),
        ]);
        const standIn = standins.find((x) => x.variable === 'BIGQUERY_EMULATOR_HOST' && x.stand_in);
        const project = typeof fields.project_id === 'string' ? fields.project_id : null;
        const location = typeof fields.location === 'string' ? fields.location : null;
        const href = !standIn && project && location ? `https://console.cloud.google.com/bigquery?project=${
          encodeURIComponent(project)}&j=bq:${encodeURIComponent(location)}:${encodeURIComponent(job)}&page=queryresults`
          : null;
        parts.push(h('dl', {class: 'kv panel', dataset: {test: 'bigquery-job'}},
          h('dt', {}, 'BigQuery job'), h('dd', {}, href ? h('a', {href, target: '_blank', rel: 'noopener noreferrer',
            dataset: {test: 'bigquery-job-link'}}, job, ' ↗') : h('code', {}, job),
          standIn ? h('span', {class: 'muted small'}, ` (on the stand-in at ${standIn.endpoint})`)
            : !href ? h('span', {class: 'muted small'}, ' (set project_id and location on the task for a console link)') : null),
          h('dt', {}, 'Bytes billed'), h('dd', {dataset: {test: 'bytes-billed'}}, bytes(value.bytes_billed),
            value.bytes_billed !== undefined ? ` (${Number(value.bytes_billed).toLocaleString()} bytes)` : ''),
          h('dt', {}, 'Bytes processed'), h('dd', {}, bytes(value.bytes_processed)),
          value.rows_written !== undefined ? [h('dt', {}, 'Rows written'), h('dd', {}, String(value.rows_written))] : null));
      }
      parts.push(h('pre', {dataset: {test: 'xcom-value'}}, JSON.stringify(value, null, 2)));
    }
    mount(result, parts);
  };

  const rendered = h('div', {dataset: {test: 'rendered-fields'}});
  const drawRendered = async () => {
    try {
      const answer = await api.get(`mayaflow/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}/rendered`);
      const fields = Object.entries(answer.rendered_fields || {});
      mount(rendered, h('h2', {}, 'Rendered templates'),
        h('p', {class: 'muted small'}, `Rendered for this run with DAG version ${answer.dag_version}; secrets show as ***.`),
        answer.error ? errorBox({status: 0, title: 'Template error', detail: answer.error}) : null,
        (answer.warnings || []).map((w) => h('p', {class: 'notice small'}, w)),
        !answer.error && !fields.length ? h('p', {class: 'muted'}, 'This task sets no templated parameter.') : null,
        fields.map(([name, value]) => h('div', {dataset: {test: 'rendered-field', field: name}},
          h('strong', {class: 'mono small'}, name),
          h('pre', {}, typeof value === 'string' ? value : JSON.stringify(value, null, 2)))));
    } catch (err) {
      mount(rendered, h('h2', {}, 'Rendered templates'), errorBox(err));
    }
  };

  const notebook = () => ((ti.operator || (task && task.operator_name)) === 'notebook'
    ? h('a', {class: 'button', dataset: {test: 'notebook-download'},
      href: `/api/v1/mayaflow/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}/notebook/${chosenTry}`},
    '⬇ Executed notebook') : null);
  const notebookSlot = h('span');

  const refresh = async () => {
    const before = ti.try_number;
    ti = await api.get(base);
    drawSummary();
    drawTries();
    mount(notebookSlot, notebook());
    if (ti.try_number !== before) openTry(ti.try_number);
    else if (running() && !tailTimer) tail();
    if (FINISHED.has(ti.state)) drawResult();
  };

  drawSummary();
  drawTries();
  mount(notebookSlot, notebook());
  mount(root, summary, errors,
    h('h2', {}, 'Log'), tries,
    h('div', {class: 'toolbar'}, search, h('label', {class: 'inline'}, onlyMatches, 'only matching lines'), matchCount,
      h('span', {class: 'grow'}), logStatus,
      h('button', {type: 'button', onclick: download, dataset: {test: 'log-download'}}, '⬇ Download log'), notebookSlot),
    logBox, result, rendered,
    task ? h('details', {}, h('summary', {}, 'Parameters as written in the DAG file'),
      h('pre', {dataset: {test: 'task-params'}}, JSON.stringify(task.params, null, 2))) : null);
  tail();
  drawResult();
  drawRendered();
  const live = subscribe({dagId, onChange: (events) => {
    if (events.some((e) => e.dag_run_id === runId && (!e.task_id || e.task_id === taskId))) refresh().catch((err) =>
      errors.replaceChildren(errorBox(err)));
  }, onReset: refresh, poll: refresh});
  return () => {
    disposed = true;
    clearTimeout(tailTimer);
    live.close();
  };
}
