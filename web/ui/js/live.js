// Live updates for a page: the API's event stream (GET /api/v1/mayaflow/events, server-sent events)
// when the browser can hold it, else polling. The page gets one call per burst of changes (events
// within 250 ms are batched), and `event: reset` (the stream lost its place) asks for a full
// refresh.
//
// A browser holds at most 6 connections to one host (HTTP/1.1), and each open stream keeps one: a
// stream is therefore only held while the page is visible. When the tab is hidden the stream closes
// and polling stops; when it is shown again the stream reopens and the page refreshes (it missed
// the events in between). A stream that has not opened within 3 s (the browser's connections are
// taken, or the daemon is slow) or that the daemon refused (429 beyond 16 streams, 503 beyond 64,
// dropped three times) gives way to polling, and is tried again 30 s later.
//
// Polling runs `poll` every max(4 s, n s) where n is the number of requests one poll makes
// (`pollRequests`, 3 unless the page says): with nothing changing a page makes less than one
// request per second.
//
// What the stream does not carry — a DAG file that fails to load, or is fixed, makes no event — a
// page may `watch`: one call (one request) every `watchMs` (10 s) while the stream is held; polling,
// which reloads everything, covers it otherwise.

import {OPEN_TIMEOUT_MS as SHARED_OPEN_TIMEOUT_MS, sharedHub, sharedStreamAvailable} from './live_shared.js';

const BATCH_MS = 250;
const POLL_MIN_MS = 4000;
const OPEN_TIMEOUT_MS = 3000;
const RETRY_MS = 30000;
const RECONNECT_MS = 2000; // the daemon asks EventSource to reconnect 2 s after a drop
const WATCH_MS = 10000;

// The interval of a poll that makes `requests` requests.
export function pollInterval(requests = 3) {
  return Math.max(POLL_MIN_MS, Math.ceil(requests) * 1000);
}

// subscribe({dagId, onChange(events), onReset(), poll, pollRequests, watch, watchMs}) -> {close()}.
// `events` are the stream's data objects with `kind` ('dag_run' or 'task_instance') added.
// Without a stream `poll()` is called instead (it refreshes what the page shows).
// The tabs of a browser share one stream when they can (live_shared.js); else each holds its own.
export function subscribe(options) {
  return sharedStreamAvailable() ? subscribeShared(options) : subscribeOwn(options);
}

// A page's part of the stream the tabs share: the events of its DAG (all with no dagId), handled as
// the stream of its own below would. A hidden tab acts on nothing and polls nothing (it keeps no
// connection either): shown again, it catches up. While no tab can hold the stream, the page polls.
function subscribeShared({dagId, onChange, onReset, poll, pollRequests = 3, watch, watchMs = WATCH_MS}) {
  const timers = pageTimers({onChange, poll, pollMs: pollInterval(pollRequests), watch, watchMs});
  let closed = false;
  let up = false; // the shared stream is open
  let catchUp = false;
  let waitTimer = null;

  const reset = () => {
    catchUp = false;
    if (!closed) (onReset || (() => onChange([])))();
  };
  // No word of an open stream within 3 s of asking: poll until there is.
  const waitForStream = () => {
    clearTimeout(waitTimer);
    waitTimer = setTimeout(() => {
      waitTimer = null;
      if (!closed && !up && !document.hidden) {
        catchUp = true;
        timers.startPolling();
      }
    }, SHARED_OPEN_TIMEOUT_MS);
  };
  const listener = {
    onEvent(kind, data) {
      if (closed) return;
      if (document.hidden) catchUp = true;
      else if (!dagId || data.dag_id === dagId) timers.push({kind, ...data});
    },
    onReset() {
      if (document.hidden) catchUp = true;
      else reset();
    },
    onStatus(open) {
      if (closed || open === up) return;
      up = open;
      if (document.hidden) return;
      if (open) {
        clearTimeout(waitTimer);
        waitTimer = null;
        timers.stopPolling();
        timers.startWatch();
        if (catchUp) reset(); // what changed since the last poll
      } else {
        catchUp = true;
        timers.stopWatch();
        timers.startPolling();
      }
    },
  };
  const onVisibility = () => {
    if (closed) return;
    if (document.hidden) {
      timers.stopPolling();
      timers.stopWatch();
      catchUp = true;
    } else {
      if (catchUp) reset();
      if (up) timers.startWatch();
      else waitForStream();
    }
  };
  document.addEventListener('visibilitychange', onVisibility);
  const leave = sharedHub().join(listener);
  if (!up) waitForStream();
  return {
    close() {
      closed = true;
      clearTimeout(waitTimer);
      document.removeEventListener('visibilitychange', onVisibility);
      timers.close();
      leave();
    },
  };
}

// A page's batching of events (those within 250 ms make one onChange), its polling and its watch.
function pageTimers({onChange, poll, pollMs, watch, watchMs}) {
  let closed = false;
  let batch = [];
  let batchTimer = null;
  let pollTimer = null;
  let polling = 0;
  let watchTimer = null;
  let watching = 0;
  // One call of `fn`; true when its chain (`current()`) should go on.
  const repeat = (fn, current) => async () => {
    try {
      await fn();
    } catch {
      // the page shows its own errors; keep going
    }
    return !closed && current();
  };
  const self = {
    push(event) {
      batch.push(event);
      if (!batchTimer) {
        batchTimer = setTimeout(() => {
          batchTimer = null;
          const events = batch;
          batch = [];
          if (!closed && events.length) onChange(events);
        }, BATCH_MS);
      }
    },
    startPolling() {
      if (pollTimer || closed || !poll) return;
      const mine = ++polling;
      const tick = repeat(poll, () => mine === polling);
      const next = () => {
        pollTimer = setTimeout(async () => {
          if (await tick()) next();
        }, pollMs);
      };
      next();
    },
    stopPolling() {
      clearTimeout(pollTimer);
      pollTimer = null;
      polling += 1;
    },
    startWatch() {
      if (watchTimer || closed || !watch) return;
      const mine = ++watching;
      const tick = repeat(watch, () => mine === watching);
      const next = () => {
        watchTimer = setTimeout(async () => {
          if (await tick()) next();
        }, watchMs);
      };
      next();
    },
    stopWatch() {
      clearTimeout(watchTimer);
      watchTimer = null;
      watching += 1;
    },
    close() {
      closed = true;
      self.stopPolling();
      self.stopWatch();
      clearTimeout(batchTimer);
    },
  };
  return self;
}

// The page's own stream (no Web Locks: an insecure context, an old browser).
function subscribeOwn({dagId, onChange, onReset, poll, pollRequests = 3, watch, watchMs = WATCH_MS}) {
  const pollMs = pollInterval(pollRequests);
  let closed = false;
  let source = null;
  let pollTimer = null;
  let openTimer = null;
  let retryTimer = null;
  let batch = [];
  let batchTimer = null;
  let failures = 0;
  let catchUp = false; // events may have been missed: refresh once the stream is open (or polling starts)
  let troubled = false; // the stream dropped or was refused: its next opening is a reconnection
  let watchTimer = null;
  let watching = 0; // the current watch's number: a call that returns after a stop starts no timer

  const reset = () => {
    if (!closed) (onReset || (() => onChange([])))();
  };
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

  const startWatch = () => {
    if (!watch || watchTimer || closed) return;
    const mine = ++watching;
    const tick = async () => {
      try {
        await watch();
      } catch {
        // the page shows its own errors; keep watching
      }
      if (mine === watching && !closed) watchTimer = setTimeout(tick, watchMs);
    };
    watchTimer = setTimeout(tick, watchMs);
  };
  const stopWatch = () => {
    clearTimeout(watchTimer);
    watchTimer = null;
    watching += 1;
  };

  const stopStream = () => {
    stopWatch();
    clearTimeout(openTimer);
    openTimer = null;
    if (source) source.close();
    source = null;
  };
  const stopPolling = () => {
    clearTimeout(pollTimer);
    pollTimer = null;
  };
  const stopAll = () => {
    stopStream();
    stopPolling();
    clearTimeout(retryTimer);
    retryTimer = null;
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
      if (!closed && pollTimer) pollTimer = setTimeout(tick, pollMs);
    };
    pollTimer = setTimeout(tick, pollMs);
  };

  // The stream cannot be held now: poll (after a refresh when events were missed), and try it again later.
  const fallBack = () => {
    troubled = true;
    stopStream();
    if (catchUp) {
      catchUp = false;
      reset();
    }
    startPolling();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (closed || document.hidden) return;
      stopPolling();
      failures = 0;
      catchUp = true; // what changed since the last poll is not on the new stream
      open();
    }, RETRY_MS);
  };

  // Falls back when the stream is not open within `ms`.
  const watchOpening = (ms = OPEN_TIMEOUT_MS) => {
    if (openTimer) return;
    openTimer = setTimeout(() => {
      openTimer = null;
      if (!closed && source && source.readyState !== EventSource.OPEN) fallBack();
    }, ms);
  };

  const open = () => {
    if (closed || source) return;
    if (typeof EventSource === 'undefined') {
      fallBack();
      return;
    }
    const query = dagId ? `?dag_id=${encodeURIComponent(dagId)}` : '';
    const stream = new EventSource(`/api/v1/mayaflow/events${query}`, {withCredentials: true});
    source = stream;
    stream.addEventListener('open', () => {
      if (source !== stream) return;
      clearTimeout(openTimer);
      openTimer = null;
      failures = 0;
      startWatch();
      if (catchUp) {
        catchUp = false;
        reset();
      }
      if (troubled) {
        // Back after a drop (a daemon restart, say): the shell refreshes what it shows once, too.
        troubled = false;
        window.dispatchEvent(new CustomEvent('mayaflow:reconnected'));
      }
    });
    stream.addEventListener('dag_run', (m) => push('dag_run', m));
    stream.addEventListener('task_instance', (m) => push('task_instance', m));
    stream.addEventListener('reset', () => reset());
    stream.addEventListener('error', () => {
      if (source !== stream) return;
      // EventSource retries by itself (with Last-Event-ID) unless the server refused the stream
      // (429, 503, 401): then poll instead, and try the stream again later.
      failures += 1;
      troubled = true;
      if (stream.readyState === EventSource.CLOSED || failures >= 3) fallBack();
      else watchOpening(OPEN_TIMEOUT_MS + RECONNECT_MS);
    });
    watchOpening();
  };

  // A hidden tab holds no connection and polls nothing; shown again, it catches up.
  const onVisibility = () => {
    if (closed) return;
    if (document.hidden) {
      stopAll();
      catchUp = true;
    } else if (!source && !pollTimer && !retryTimer) {
      failures = 0;
      catchUp = true;
      open();
    }
  };
  document.addEventListener('visibilitychange', onVisibility);
  if (document.hidden) catchUp = true; // opened in a background tab: the stream waits until it is shown
  else open();

  return {
    close() {
      closed = true;
      document.removeEventListener('visibilitychange', onVisibility);
      stopAll();
      clearTimeout(batchTimer);
    },
  };
}
