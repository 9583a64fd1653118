// A task instance: its tries (state, start, end and duration of each, and its log), state, its templated parameters rendered
// for the run with secrets masked (and as written), its result (XCom return_value) with the
// BigQuery job and bytes billed, the log with a live tail while the try runs, search and download,
// the executed notebook, and clear / mark success / mark failed for Op and Admin.
import {api, ApiError, enc, prefetch as prefetchAnswer} from '../api.js';
import {h, mount, seg} from '../dom.js';
import {bytes, duration, durationBetween, stateBadge, time} from '../format.js';
import {subscribe} from '../live.js';
import {debounce, dialogForm, errorBox, field, modal} from '../ui.js';

const TAIL_MS = 1500;
// A search marks at most this many matches (and shows at most this many matching lines): a common
// letter in a log of megabytes would otherwise build millions of nodes.
const MAX_MARKS = 1000;
const FINISHED = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);
const NOTE_MAX = 1000; // the API's limit (it answers 400, with a detail, beyond it)

const TRIES_QUERY = {limit: 1000};
const paths = (route) => {
  const [, dagId, , runId, , taskId] = route.path;
  const instance = `dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}`;
  return {instance, task: `dags/${enc(dagId)}/tasks/${enc(taskId)}`, tries: `${instance}/tries`,
    rendered: `mayaflow/dags/${enc(dagId)}/dagRuns/${enc(runId)}/taskInstances/${enc(taskId)}/rendered`};
};

// What the panel reads whatever the instance's state: the instance, its task, its tries and its
// rendered templates.
export function prefetch(route) {
  const {instance, task, tries, rendered} = paths(route);
  prefetchAnswer(instance);
  prefetchAnswer(task);
  prefetchAnswer(tries, TRIES_QUERY);
  prefetchAnswer(rendered);
}

export async function render(root, route, ctx) {
  const [, dagId, , runId, , taskId] = route.path;
  ctx.setTitle(`${taskId} · ${dagId}`);
  const {instance: base, task: taskPath, tries: triesPath, rendered: renderedPath} = paths(route);
  const dagHref = `#/dags/${seg(dagId)}`;
  // The task (its operator and templated fields) is read beside the instance, not after it.
  const taskAnswer = api.get(taskPath).catch(() => null);
  let ti = await api.get(base);
  const askedTry = Number(route.query.get('try')) || null;
  // A try the task has not had (a stale or hand-made link) opens the latest one, with a word about it.
  const tryNotice = h('div', {dataset: {test: 'try-notice'}});
  let chosenTry = askedTry && askedTry >= 1 && askedTry <= ti.try_number ? askedTry : ti.try_number || 1;
  if (askedTry && askedTry !== chosenTry) {
    tryNotice.append(h('p', {class: 'notice small', role: 'status'}, ti.try_number
      ? `This task has had ${ti.try_number} tr${ti.try_number === 1 ? 'y' : 'ies'}, not ${askedTry}: showing try ${ti.try_number}.`
      : `This task has not started yet, so it has no try ${askedTry}.`));
  }
  const task = await taskAnswer;

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
  const triesTable = h('div', {dataset: {test: 'task-tries'}});
  let logText = '';
  let token = null;
  let tailTimer = null;
  let disposed = false;

  // The text with its matches of `pattern` marked, while `budget.n` marks are left.
  const marked = (text, pattern, budget) => {
    const nodes = [];
    let at = 0;
    pattern.lastIndex = 0;
    for (let m; budget.n > 0 && (m = pattern.exec(text));) {
      nodes.push(text.slice(at, m.index), h('mark', {}, m[0]));
      at = m.index + m[0].length;
      budget.n -= 1;
    }
    nodes.push(text.slice(at));
    return nodes;
  };
  let lines = null;  // logText split into lines, for "only matching lines"; null when the text changed
  const drawLog = () => {
    const needle = search.value;
    if (!needle) {
      logBox.textContent = logText || (ti.try_number ? '(nothing logged yet)' : '(the task has not started: no log yet)');
      matchCount.textContent = '';
      return;
    }
    const pattern = new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
    let matches = 0;
    for (pattern.lastIndex = 0; pattern.exec(logText);) matches += 1;
    const budget = {n: MAX_MARKS};
    if (onlyMatches.checked) {
      if (!lines) lines = logText.split('\n');
      const nodes = [];
      for (const line of lines) {
        if (budget.n <= 0) break;
        pattern.lastIndex = 0;
        if (pattern.test(line)) nodes.push(...marked(line, pattern, budget), '\n');
      }
      mount(logBox, nodes);
    } else {
      mount(logBox, marked(logText, pattern, budget));
    }
    matchCount.textContent = `${matches.toLocaleString()} match${matches === 1 ? '' : 'es'}${
      matches > MAX_MARKS ? ` (the first ${MAX_MARKS.toLocaleString()} marked)` : ''}`;
    const first = logBox.querySelector('mark');
    if (first) first.scrollIntoView({block: 'nearest'});
  };
  search.addEventListener('input', debounce(drawLog, 200));
  onlyMatches.addEventListener('change', drawLog);

  // Only a running try writes to its log: queued, up_for_retry, up_for_reschedule and deferred ones wait.
  const running = () => chosenTry === ti.try_number && ti.state === 'running';
  const readLog = async () => {
    const answer = await api.get(`${base}/logs/${chosenTry}`, token ? {token} : {full_content: 'true'});
    token = answer.continuation_token || token;
    if (answer.content) {
      const atBottom = logBox.scrollTop + logBox.clientHeight >= logBox.scrollHeight - 20;
      logText += answer.content;
      lines = null;
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
      else if (!logText) {
        logBox.textContent = ti.try_number ? `No log for try ${chosenTry}: ${err.detail}` : '(the task has not started: no log yet)';
      }
    }
    if (running() && !disposed) tailTimer = setTimeout(tail, TAIL_MS);
  };
  const openTry = (n) => {
    chosenTry = n;
    logText = '';
    lines = null;
    token = null;
    tryNotice.replaceChildren();
    logBox.textContent = 'Loading…';
    history.replaceState(null, '', `#/dags/${seg(dagId)}/runs/${seg(runId)}/tasks/${seg(taskId)}?try=${n}`);
    drawTries();
    for (const row of triesTable.querySelectorAll('[data-test="try-row"]')) {
      row.classList.toggle('selected', Number(row.dataset.try) === n);
    }
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

  // Every try with its state, start, end and duration (the API's /tries); a row opens its log.
  const drawTryTable = async () => {
    let answer;
    try {
      answer = await api.get(triesPath, TRIES_QUERY);
    } catch (err) {
      mount(triesTable, h('h2', {}, 'Tries'), errorBox(err));
      return;
    }
    const list = answer.task_instances || [];
    mount(triesTable, h('h2', {}, 'Tries'), !list.length ? h('p', {class: 'muted'}, 'Not started yet.')
      : h('div', {class: 'table-wrap'}, h('table', {},
        h('thead', {}, h('tr', {}, ['Try', 'State', 'Started', 'Ended', 'Duration'].map((t) => h('th', {scope: 'col'}, t)))),
        h('tbody', {}, list.map((t) => h('tr', {dataset: {test: 'try-row', try: t.try_number},
          class: t.try_number === chosenTry ? 'selected' : null},
        h('td', {}, h('a', {href: '#', onclick: (e) => {
          e.preventDefault();
          openTry(t.try_number);
        }}, `Try ${t.try_number}`)),
        h('td', {}, stateBadge(t.state)),
        h('td', {}, time(t.start_date)),
        h('td', {}, time(t.end_date)),
        h('td', {dataset: {test: 'try-duration'}}, duration(t.duration ??
          (t.start_date ? durationBetween(t.start_date, t.end_date) : null)))))))));
  };

  const download = async () => {
    try {
      // The file's bytes as the daemon sends them (a log may hold bytes that are not UTF-8).
      const response = await api.get(`${base}/logs/${chosenTry}`, {full_content: 'true'}, {accept: 'text/plain', raw: true});
      const url = URL.createObjectURL(await response.blob());
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
    // No "mark success" on a task that succeeded, nor "mark failed" on one that failed.
    const success = ti.state === 'success' ? null : h('button', {type: 'button', dataset: {test: 'mark-success-button'},
      onclick: () => mark('success')}, '✓ Mark success');
    const failed = ti.state === 'failed' ? null : h('button', {type: 'button', class: 'danger', dataset: {test: 'mark-failed-button'},
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

  // Mark success / failed as Airflow's dialog does: with the task's relatives in this run and the same
  // task in earlier or later runs, the task instances it would change listed (a dry run) before it does.
  const mark = async (state) => {
    const relatives = [['include_upstream', 'Upstream tasks'], ['include_downstream', 'Downstream tasks'],
      ['include_past', 'Earlier runs'], ['include_future', 'Later runs']].map(([name, label]) =>
      [name, label, h('input', {type: 'checkbox', id: `mark-${name}`, dataset: {test: `mark-${name.replace('include_', '')}`}})]);
    const preview = h('div', {class: 'small', dataset: {test: 'mark-preview'}});
    const body = (dryRun) => Object.fromEntries([['dry_run', dryRun], ['task_id', taskId], ['dag_run_id', runId],
      ['new_state', state], ...relatives.map(([name, , box]) => [name, box.checked])]);
    const showPreview = async () => {
      try {
        const answer = await api.post(`dags/${enc(dagId)}/updateTaskInstancesState`, body(true));
        const list = answer.task_instances || [];
        mount(preview, list.length ? [h('p', {}, `Sets ${list.length} task instance${list.length === 1 ? '' : 's'} to ${state}:`),
          h('ul', {}, list.slice(0, 30).map((t) => h('li', {class: 'mono'}, `${t.dag_run_id} · ${t.task_id}`)),
            list.length > 30 ? h('li', {class: 'muted'}, `and ${list.length - 30} more`) : null)]
          : h('p', {class: 'muted'}, `Nothing to change: every chosen task instance is already ${state}.`));
      } catch (err) {
        mount(preview, errorBox(err));
      }
    };
    for (const [, , box] of relatives) box.addEventListener('change', showPreview);
    showPreview();
    const go = await modal(`Mark ${taskId} ${state}`, (close) => h('div', {},
      h('p', {}, `Set ${taskId} in ${runId} to ${state}. A running try is ended; the failed and upstream-failed tasks after it run again.`),
      relatives.map(([, label, box]) => h('label', {class: 'inline'}, box, ` ${label} too`)),
      preview,
      h('div', {class: 'dialog-actions'},
        h('button', {type: 'button', onclick: () => close(false)}, 'Cancel'),
        h('button', {type: 'button', class: state === 'failed' ? 'danger' : 'primary', dataset: {test: 'mark-confirm'},
          onclick: () => close(true)}, `Mark ${state}`))), {test: 'mark-dialog'});
    if (!go) return;
    try {
      await api.post(`dags/${enc(dagId)}/updateTaskInstancesState`, body(false));
      await refresh();
    } catch (err) {
      errors.replaceChildren(errorBox(err));
    }
  };

  const drawSummary = () => {
    // Ended: its length; running: counting (ticker below); waiting (no status, queued, up for retry): none.
    const secondsRun = ti.end_date ? ti.duration ?? durationBetween(ti.start_date, ti.end_date)
      : ti.state === 'running' && ti.start_date ? durationBetween(ti.start_date, null) : null;
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
        h('dt', {}, 'Note'), h('dd', {}, note())));
  };

  // The task instance's note (its latest try's): everyone who can read the DAG sees it; User and up edit
  // it, as the run's note in the run panel.
  const note = () => [ti.note
    ? h('span', {dataset: {test: 'task-note'}, style: {whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', unicodeBidi: 'isolate'}},
      ti.note)
    : h('span', {class: 'muted', dataset: {test: 'task-note'}}, 'no note'),
  ctx.can('note') ? [' ', h('button', {type: 'button', class: 'small', dataset: {test: 'task-note-edit'}, onclick: editNote},
    ti.note ? '✎ Edit' : '✎ Add a note')] : null];

  const editNote = async () => {
    errors.replaceChildren();
    const text = h('textarea', {rows: 4, style: {width: '100%'}, dataset: {test: 'task-note-input'}});
    text.value = ti.note || '';
    const count = h('span', {dataset: {test: 'task-note-count'}});
    const counted = () => {
      const n = [...text.value].length;
      count.textContent = `${n.toLocaleString('en')} of ${NOTE_MAX.toLocaleString('en')} characters`;
      count.style.color = n > NOTE_MAX ? 'var(--danger)' : '';
    };
    text.addEventListener('input', counted);
    counted();
    const saved = await modal(ti.note ? `Edit the note of ${taskId}` : `Add a note to ${taskId}`, (close) => dialogForm(close, {
      test: 'task-note',
      // The API checks the length: its 400 and detail show in the dialog, which stays open.
      submit: () => api.patch(`${base}/setNote`, {note: text.value.trim() ? text.value : null}),
    }, field('Note', text, [count, '; empty removes the note. Everyone who can read the DAG sees it.'])),
    {test: 'task-note-dialog'});
    if (saved && typeof saved === 'object') {
      ti = saved;
      drawSummary();
    }
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
    if (value === null || value === undefined) {
      parts.push(h('p', {class: 'muted'}, FINISHED.has(ti.state) || ti.state === 'up_for_retry'
        ? 'This try returned no result.' : 'No result yet: the task has not finished.'));
    }
    else {
      if (value && typeof value === 'object' && value.job_id) {
        const job = String(value.job_id);
        // The console's link needs the job's project and location: the task's rendered project_id and
        // location when it sets them. None when BigQuery is a stand-in (the console does not know its jobs).
        const [fields, standins] = await Promise.all([
          api.get(renderedPath)
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
      const answer = await api.get(renderedPath);
      const fields = Object.entries(answer.rendered_fields || {});
      mount(rendered, h('h2', {}, 'Rendered templates'),
        h('p', {class: 'muted small'}, `Rendered now for this run with DAG version ${answer.dag_version}, as its next try would `
          + 'run them (with the connections and variables as they are now); secrets show as ***.'),
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
    drawTryTable();
    mount(notebookSlot, notebook());
    if (ti.try_number !== before) {
      openTry(ti.try_number);
      drawRendered();
    }
    else if (running() && !tailTimer) tail();
    if (FINISHED.has(ti.state)) drawResult();
  };

  drawSummary();
  drawTries();
  mount(notebookSlot, notebook());
  mount(root, summary, tryNotice, errors, triesTable,
    h('h2', {}, 'Log'), tries,
    h('div', {class: 'toolbar'}, search, h('label', {class: 'inline'}, onlyMatches, 'only matching lines'), matchCount,
      h('span', {class: 'grow'}), logStatus,
      h('button', {type: 'button', onclick: download, dataset: {test: 'log-download'}}, '⬇ Download log'), notebookSlot),
    logBox, result, rendered,
    task ? h('details', {}, h('summary', {}, 'Parameters as written in the DAG file'),
      h('pre', {dataset: {test: 'task-params'}}, JSON.stringify(task.params, null, 2))) : null);
  tail();
  drawTryTable();
  drawResult();
  drawRendered();
  const live = subscribe({dagId, onChange: (events) => {
    if (events.some((e) => e.dag_run_id === runId && (!e.task_id || e.task_id === taskId))) refresh().catch((err) =>
      errors.replaceChildren(errorBox(err)));
  }, onReset: refresh, poll: refresh});
  // A running try's duration counts up once a second (only that one cell changes).
  const ticker = setInterval(() => {
    if (ti.state !== 'running' || !ti.start_date || ti.end_date) return;
    const cell = summary.querySelector('[data-test="task-duration"]');
    if (cell) cell.textContent = duration(durationBetween(ti.start_date, null));
  }, 1000);
  return () => {
    disposed = true;
    clearInterval(ticker);
    clearTimeout(tailTimer);
    live.close();
  };
}
