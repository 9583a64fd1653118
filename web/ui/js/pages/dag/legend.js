// The key to the state colours of the grid and the graph: each state's colour, icon and name (open on a
// wide screen, one line to open on a phone).
import {h} from '../../dom.js';
import {stateInfo} from '../../format.js';

const SHOWN = ['success', 'failed', 'running', 'queued', 'scheduled', 'up_for_retry', 'up_for_reschedule',
  'upstream_failed', 'skipped', 'deferred', 'removed', 'restarting', 'shutdown', 'none'];

export function stateLegend() {
  const wide = !window.matchMedia || !window.matchMedia('(max-width: 700px)').matches;
  return h('details', {open: wide, class: 'small', style: {margin: '.4rem 0'}, dataset: {test: 'state-legend'}},
    h('summary', {class: 'muted'}, 'State colours'),
    h('div', {class: 'row', role: 'list', 'aria-label': 'State colours', style: {gap: '.3rem .75rem', flexWrap: 'wrap',
      marginTop: '.3rem'}}, SHOWN.map((state) => {
    const info = stateInfo(state);
    return h('span', {role: 'listitem', dataset: {test: 'legend-item', state: info.key},
      style: {display: 'inline-flex', alignItems: 'center', gap: '.25rem', whiteSpace: 'nowrap'}},
    h('span', {class: `mark state-${info.key}`, style: {background: info.color}, 'aria-hidden': 'true'}, info.icon),
    info.label);
  })));
}
