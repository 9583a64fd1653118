// Pools (#/pools): each pool's slots and what fills them (running, queued, scheduled, deferred, open),
// live from the event stream; add, resize, describe and delete for Op and Admin.
// API: /api/v1/pools (docs/api-admin.md).
import {api, enc} from '../api.js';
import {h} from '../dom.js';
import {stateInfo} from '../format.js';
import {button, changes, dialogForm, field, iconLabel, pagedList, patchFields, stateBar} from '../ui.js';

// The slots of a pool as a bar: running, queued and deferred parts over the pool's size.
function usageBar(pool) {
  const size = Math.max(pool.slots || 0, (pool.occupied_slots || 0));
  const parts = [['running', pool.running_slots], ['queued', pool.queued_slots], ['deferred', pool.deferred_slots]]
    .filter(([, n]) => n > 0);
  const used = `${pool.occupied_slots || 0} of ${pool.slots} slots in use`;
  return stateBar(parts, size, {role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': String(pool.slots),
    'aria-valuenow': String(pool.occupied_slots || 0), 'aria-label': used, title: used, style: {height: '.7rem', minWidth: '6rem'}});
}

function count(n, state) {
  const info = stateInfo(state);
  return n ? iconLabel(info.icon, String(n), info.color) : h('span', {class: 'muted'}, '0');
}

export function render(root, route, ctx) {
  const edit = (pool) => list.dialog(pool ? `Edit pool ${pool.name}` : 'Add a pool', (close) => editor(pool, close));
  const list = pagedList(root, ctx, {
    title: 'Pools', needs: 'pools', test: 'pool', path: 'pools', query: {order_by: 'name'}, pageSize: 100,
    intro: 'Tasks that name a pool share its slots; a task waits in scheduled while the pool has no open slot.',
    add: ctx.can('pools') ? () => edit(null) : null,
    columns: [
      {title: 'Pool', cell: (p) => h('strong', {}, p.name)},
      {title: 'Slots', cell: (p) => String(p.slots)},
      {title: 'In use', cell: (p) => h('div', {}, usageBar(p), h('span', {class: 'small muted'}, `${p.occupied_slots} of ${p.slots}`))},
      {title: 'Running', cell: (p) => h('span', {dataset: {test: 'pool-running'}}, count(p.running_slots, 'running'))},
      {title: 'Queued', cell: (p) => h('span', {dataset: {test: 'pool-queued'}}, count(p.queued_slots, 'queued'))},
      {title: 'Scheduled', cell: (p) => count(p.scheduled_slots, 'scheduled')},
      {title: 'Deferred', cell: (p) => count(p.deferred_slots, 'deferred')},
      {title: 'Open', cell: (p) => h('span', {dataset: {test: 'pool-open'}}, String(p.open_slots))},
      {title: 'Description', cell: (p) => p.description || ''},
    ],
    actions: ctx.can('pools') ? (p) => [
      button('pool-edit', 'Edit', () => edit(p)),
      p.name === 'default_pool' ? null : button('pool-delete', 'Delete', () => list.remove(`Delete pool ${p.name}?`,
        'Tasks that name it wait until a pool of that name exists again.', `pools/${enc(p.name)}`), {class: 'danger'}),
    ] : null,
    rowAttrs: (p) => ({dataset: {pool: p.name}}),
    // Slots change as task instances change state: reload on those events, batched.
    live: {kinds: ['task_instance']},
  });
  return list.dispose;
}

function editor(pool, close) {
  const name = h('input', {required: true, maxlength: '256', value: pool ? pool.name : '', disabled: pool && pool.name === 'default_pool',
    dataset: {test: 'pool-name'}});
  const slots = h('input', {type: 'number', min: '0', max: '1000000', required: true, value: pool ? String(pool.slots) : '1',
    dataset: {test: 'pool-slots'}});
  const description = h('input', {value: pool ? pool.description || '' : '', dataset: {test: 'pool-description'}});
  return dialogForm(close, {test: 'pool', submit: async () => {
    const size = Number(slots.value);
    if (!Number.isInteger(size) || size < 0 || size > 1000000) {
      throw {status: 0, title: 'Bad size', detail: 'slots must be a whole number from 0 to 1000000'};
    }
    const now = {name: name.value.trim(), slots: size, description: description.value};
    if (!pool) await api.post('pools', now);
    else await patchFields(`pools/${enc(pool.name)}`, changes(now, {...pool, description: pool.description || ''}));
  }},
  field('Name', name, pool ? 'renaming a pool leaves tasks that name the old one waiting' : null),
  field('Slots', slots),
  field('Description', description));
}
