// The DAG's YAML file as the daemon reads it now, with the version number the store gave it.
import {api, enc} from '../../api.js';
import {h, mount} from '../../dom.js';
import {time} from '../../format.js';

export async function render(root, {dagId, dag}) {
  const answer = await api.get(`mayaflow/dags/${enc(dagId)}/source`);
  const lines = String(answer.content || '').split('\n');
  const width = String(lines.length).length;
  mount(root,
    h('p', {class: 'small'}, h('strong', {}, `Version ${answer.version_number}`), ' · ', h('code', {}, answer.fileloc),
      ' · parsed ', time(dag.last_parsed_time)),
    answer.note ? h('p', {class: 'notice'}, answer.note) : null,
    h('pre', {dataset: {test: 'dag-source'}, tabindex: 0, 'aria-label': `Source of ${dagId}`},
      lines.map((line, i) => [h('span', {class: 'muted', 'aria-hidden': 'true'}, `${String(i + 1).padStart(width)}  `),
        line, '\n'])));
}
