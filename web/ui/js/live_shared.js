// One event stream for all the tabs of a browser. Chromium holds at most 6 connections to one host
// (HTTP/1.1) and a stream keeps one for as long as it is open, so a stream per tab left a 7th tab
// waiting. Instead the tabs elect a leader with the Web Locks API (navigator.locks): the tab holding
// the lock opens the one EventSource (every DAG's events) and relays what it receives over a
// BroadcastChannel; every tab, the leader's too, hands the events to its pages. When the leader's tab
// closes (or leaves its live pages) the browser gives the lock to the next tab waiting, which opens
// the stream from the last event id the tabs saw (`?since=`), so nothing is missed.
//
// Messages on the channel: {type: 'event', kind, data, id}, {type: 'reset'} (the stream lost its
// place), {type: 'status', open, reconnected} (the leader's stream opened, or cannot be held: the
// pages poll), {type: 'hello'} (a tab asks the leader for its status).
//
// Needs navigator.locks (a secure context: https, or http on the loopback) and BroadcastChannel;
// without them live.js gives each tab its own stream, as before.

export const OPEN_TIMEOUT_MS = 3000;
export const RETRY_MS = 30000;
const RECONNECT_MS = 2000; // the daemon asks EventSource to reconnect 2 s after a drop
const LINGER_MS = 2000; // a leader whose pages all closed keeps the stream this long (the next page may want it)
const LOCK = 'mayaflow-event-stream';
const CHANNEL = 'mayaflow-events';

export function sharedStreamAvailable() {
  return typeof navigator !== 'undefined' && Boolean(navigator.locks) && typeof BroadcastChannel !== 'undefined'
    && typeof EventSource !== 'undefined';
}

let hub = null;

// This tab's end of the shared stream: join(listener) -> leave(). A listener has onEvent(kind, data),
// onReset() and onStatus(open).
export function sharedHub() {
  if (!hub) hub = makeHub();
  return hub;
}

function makeHub() {
  const channel = new BroadcastChannel(CHANNEL);
  const listeners = new Set();
  let lastId = null; // the last event id any tab relayed: where a new leader's stream starts
  let open = false; // the stream as last heard of
  let leader = null; // while this tab leads: {release, source, timers…}
  let asking = null; // the AbortController of this tab's waiting lock request
  let lingerTimer = null;

  const deliver = (message) => {
    if (message.id) lastId = message.id;
    if (message.type === 'event') {
      for (const listener of listeners) listener.onEvent(message.kind, message.data);
    } else if (message.type === 'reset') {
      for (const listener of listeners) listener.onReset();
    } else if (message.type === 'status') {
      open = message.open;
      for (const listener of listeners) listener.onStatus(message.open);
      // Back after a drop (a daemon restart, say): the shell refreshes what it shows once, too.
      if (message.open && message.reconnected) window.dispatchEvent(new CustomEvent('mayaflow:reconnected'));
    } else if (message.type === 'hello' && leader) {
      say({type: 'status', open: leader.open});
    }
  };
  // To every tab, this one included (a channel does not hear its own messages).
  const say = (message) => {
    channel.postMessage(message);
    deliver(message);
  };
  channel.onmessage = (event) => deliver(event.data);

  // --- the leader's stream -------------------------------------------------------------------------
  const closeStream = () => {
    if (!leader) return;
    clearTimeout(leader.openTimer);
    clearTimeout(leader.retryTimer);
    leader.openTimer = leader.retryTimer = null;
    if (leader.source) leader.source.close();
    leader.source = null;
  };
  // The stream cannot be held now: the pages poll, and it is tried again later.
  const fallBack = () => {
    closeStream();
    leader.troubled = true;
    leader.open = false;
    say({type: 'status', open: false});
    leader.retryTimer = setTimeout(() => {
      if (!leader) return;
      leader.retryTimer = null;
      leader.failures = 0;
      openStream();
    }, RETRY_MS);
  };
  const watchOpening = (ms) => {
    if (leader.openTimer) return;
    leader.openTimer = setTimeout(() => {
      if (!leader) return;
      leader.openTimer = null;
      if (leader.source && leader.source.readyState !== EventSource.OPEN) fallBack();
    }, ms);
  };
  const openStream = () => {
    if (!leader || leader.source) return;
    const stream = new EventSource(`/api/v1/mayaflow/events${lastId ? `?since=${encodeURIComponent(lastId)}` : ''}`,
      {withCredentials: true});
    leader.source = stream;
    const mine = () => leader && leader.source === stream;
    stream.addEventListener('open', () => {
      if (!mine()) return;
      clearTimeout(leader.openTimer);
      leader.openTimer = null;
      leader.failures = 0;
      leader.open = true;
      say({type: 'status', open: true, reconnected: leader.troubled});
      leader.troubled = false;
    });
    for (const kind of ['dag_run', 'task_instance']) {
      stream.addEventListener(kind, (m) => {
        if (!mine()) return;
        let data;
        try {
          data = JSON.parse(m.data);
        } catch {
          return;
        }
        say({type: 'event', kind, data, id: m.lastEventId || null});
      });
    }
    stream.addEventListener('reset', (m) => {
      if (mine()) say({type: 'reset', id: m.lastEventId || null});
    });
    stream.addEventListener('error', () => {
      if (!mine()) return;
      // EventSource retries by itself (with Last-Event-ID) unless the server refused the stream
      // (429, 503, 401): then the pages poll, and the stream is tried again later.
      leader.failures += 1;
      leader.troubled = true;
      if (leader.open) {
        leader.open = false;
        say({type: 'status', open: false});
      }
      if (stream.readyState === EventSource.CLOSED || leader.failures >= 3) fallBack();
      else watchOpening(OPEN_TIMEOUT_MS + RECONNECT_MS);
    });
    watchOpening(OPEN_TIMEOUT_MS);
  };

  // Holds the lock (and the stream) until release(): no page of this tab listens any more, or the tab goes.
  const lead = () => new Promise((release) => {
    asking = null;
    leader = {release, source: null, open: false, failures: 0, troubled: false, openTimer: null, retryTimer: null};
    openStream();
  });
  const resign = () => {
    if (!leader) return;
    closeStream();
    const {release} = leader;
    leader = null;
    release();
  };

  const askToLead = () => {
    if (leader || asking) return;
    asking = new AbortController();
    navigator.locks.request(LOCK, {signal: asking.signal}, lead).catch(() => {
      // aborted: this tab no longer needs the stream
    });
  };

  return {
    get open() {
      return open;
    },
    join(listener) {
      clearTimeout(lingerTimer);
      lingerTimer = null;
      listeners.add(listener);
      askToLead();
      channel.postMessage({type: 'hello'});
      if (leader ? leader.open : open) listener.onStatus(true);
      else if (leader) listener.onStatus(false);
      return () => {
        listeners.delete(listener);
        if (listeners.size) return;
        clearTimeout(lingerTimer);
        lingerTimer = setTimeout(() => {
          lingerTimer = null;
          if (listeners.size) return;
          if (asking) asking.abort();
          asking = null;
          resign();
        }, LINGER_MS);
      };
    },
  };
}
