// Trigger a run: conf as JSON (checked in the page before sending, prefilled from the DAG's
// params), logical date, run id and note. The API's `detail` is shown when it refuses.
import {api, enc} from '../api.js';
import {h, mount, seg} from '../dom.js';
import {timeZoneName} from '../format.js';
import {errorBox, field} from '../ui.js';

// The DAG's params as a conf object: Airflow's Param shape ({value, ...}) gives its value.
function confFromParams(params) {
  const conf = {};
  for (const [name, param] of Object.entries(params || {})) {
    conf[name] = param && typeof param === 'object' && !Array.isArray(param) && 'value' in param ? param.value : param;
  }
  return conf;
}

// The conf text as an object, or the reason it is not one (with the line and column).
export function checkConf(text) {
  if (!text.trim()) return {conf: {}};
  try {
    const conf = JSON.parse(text);
    if (conf === null || typeof conf !== 'object' || Array.isArray(conf)) {
      return {error: 'conf must be a JSON object ({"name": value, …}), not ' + (Array.isArray(conf) ? 'an array' : typeof conf)};
    }
    return {conf};
  } catch (err) {
    const at = /position (\d+)/.exec(err.message);
    if (at) {
      const before = text.slice(0, Number(at[1]));
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      return {error: `conf is not valid JSON at line ${line}, column ${column}: ${err.message}`};
    }
    return {error: `conf is not valid JSON: ${err.message}`};
  }
}

export async function render(root, route, ctx) {
  const dagId = route.path[1];
  ctx.setTitle(`Trigger ${dagId}`);
  const dag = await api.get(`dags/${enc(dagId)}/details`);
  const conf = h('textarea', {id: 'trigger-conf', spellcheck: 'false', dataset: {test: 'trigger-conf'},
    'aria-describedby': 'conf-check'}, JSON.stringify(confFromParams(dag.params), null, 2));
  const confCheck = h('p', {id: 'conf-check', class: 'field-help', 'aria-live': 'polite', dataset: {test: 'conf-check'}});
  const logical = h('input', {type: 'datetime-local', step: 1, id: 'trigger-logical-date',
    dataset: {test: 'trigger-logical-date'}});
  const runId = h('input', {id: 'trigger-run-id', placeholder: 'manual__<logical date>', pattern: '[A-Za-z0-9_.~:+\\-]+',
    dataset: {test: 'trigger-run-id'}});
  const note = h('input', {id: 'trigger-note', maxlength: 1000, dataset: {test: 'trigger-note'}});
  const errors = h('div', {'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', class: 'primary', dataset: {test: 'trigger-submit'}}, '▶ Trigger');

  const validate = () => {
    const checked = checkConf(conf.value);
    confCheck.textContent = checked.error || '✓ valid JSON object';
    confCheck.style.color = checked.error ? 'var(--danger)' : 'var(--s-success)';
    conf.setAttribute('aria-invalid', checked.error ? 'true' : 'false');
    submit.disabled = Boolean(checked.error);
    return checked;
  };
  conf.addEventListener('input', validate);

  const form = h('form', {class: 'panel', dataset: {test: 'trigger-form'}, onsubmit: async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    const checked = validate();
    if (checked.error) {
      errors.replaceChildren(errorBox({status: 0, title: 'Invalid conf', detail: checked.error}));
      conf.focus();
      return;
    }
    const body = {conf: checked.conf};
    if (logical.value) body.logical_date = new Date(logical.value).toISOString();
    if (runId.value.trim()) body.dag_run_id = runId.value.trim();
    if (note.value.trim()) body.note = note.value.trim();
    submit.disabled = true;
    try {
      const run = await api.post(`dags/${enc(dagId)}/dagRuns`, body);
      location.hash = `#/dags/${seg(dagId)}/grid?run=${enc(run.dag_run_id)}`;
    } catch (err) {
      errors.replaceChildren(errorBox(err));
      submit.disabled = false;
    }
  }},
  field('Configuration (conf, JSON)', conf, 'Prefilled from the DAG\'s params; templates read it as dag_run.conf.'),
  confCheck,
  field(`Logical date (${timeZoneName()})`, logical, 'Empty: now.'),
  field('Run id', runId, 'Empty: manual__<logical date>. Letters, digits and _ . ~ : + - only.'),
  field('Note', note),
  h('div', {class: 'toolbar'}, submit, h('a', {href: `#/dags/${seg(dagId)}`, class: 'button'}, 'Cancel')),
  errors);

  mount(root, h('h1', {}, 'Trigger ', h('a', {href: `#/dags/${seg(dagId)}`}, dagId)),
    dag.is_paused ? h('p', {class: 'notice'}, '‖ This DAG is paused: the run is created queued and starts when it is unpaused.')
      : null,
    ctx.can('trigger') ? form : errorBox({status: 403, title: 'Forbidden',
      detail: `triggering needs the User role; ${ctx.user.username} has ${(ctx.user.roles || []).join(', ')}`}));
  validate();
}
