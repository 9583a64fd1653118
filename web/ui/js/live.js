// Live updates for a page: the API's event stream (GET /api/v1/mayaflow/events, server-sent events)
// when the browser can hold it, else polling. The page gets one call per burst of changes (events
// within 250 ms are batched), and `event: reset` (the stream lost its place) asks for a full
// refresh. When the stream cannot be held, `poll` runs every 2 s: with nothing changing a page
// makes at most one request per second.

const BATCH_MS = 250;
const POLL_MS = 2000;

// subscribe({dagId, onChange(events), onReset(), poll}) -> {close()}.
// `events` are the stream's data objects with `kind` ('dag_run' or 'task_instance') added.
// Without a stream `poll()` is called instead (it refreshes what the page shows).
export function subscribe({dagId, onChange, onReset, poll}) {
  let closed = false;
  let source = null;
  let pollTimer = null;
  let batch = [];
  let batchTimer = null;
  let failures = 0;

  const flush = () => {
    batchTimer = null;
    const events = batch;
    batch = [];
    if (!closed && events.length) onChange(events);
  };
  const push = (kind, message) => {
    let data = {};
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    batch.push({kind, ...data});
    if (!batchTimer) batchTimer = setTimeout(flush, BATCH_MS);
  };

  const startPolling = () => {
    if (pollTimer || closed || !poll) return;
    const tick = async () => {
      if (closed) return;
      try {
        await poll();
      } catch {
        // the page shows its own errors; keep polling
      }
      if (!closed) pollTimer = setTimeout(tick, POLL_MS);
    };
    pollTimer = setTimeout(tick, POLL_MS);
  };

  const open = () => {
    if (typeof EventSource === 'undefined') return startPolling();
    const query = dagId ? `?dag_id=${encodeURIComponent(dagId)}` : '';
    source = new EventSource(`/api/v1/mayaflow/events${query}`, {withCredentials: true});
    source.addEventListener('open', () => {
      failures = 0;
    });
    source.addEventListener('dag_run', (m) => push('dag_run', m));
    source.addEventListener('task_instance', (m) => push('task_instance', m));
    source.addEventListener('reset', () => {
      if (!closed) (onReset || (() => onChange([])))();
    });
    source.addEventListener('error', () => {
      // EventSource retries by itself (with Last-Event-ID) unless the server refused the stream
      // (429 beyond 16 streams, 503 beyond 64, 401): then poll instead, and try the stream again later.
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures >= 3) {
        source.close();
        source = null;
        startPolling();
        setTimeout(() => {
          if (closed) return;
          clearTimeout(pollTimer);
          pollTimer = null;
          failures = 0;
          open();
        }, 30000);
      }
    });
  };
  open();

  return {
    close() {
      closed = true;
      if (source) source.close();
      clearTimeout(pollTimer);
      clearTimeout(batchTimer);
    },
  };
}
