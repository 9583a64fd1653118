"""Loopback HTTP/1.1 server for the Realtime Database stand-in: /<path>.json (the REST API) and the test control
API under /_fake/. See ../FIREBASE-SLACK.md."""
import argparse
import collections
import json
import os
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import faults, tree
from .tree import FirebaseError

SCOPE_EMAIL = "https://www.googleapis.com/auth/userinfo.email"
SCOPE_DATABASE = "https://www.googleapis.com/auth/firebase.database"
REQUIRED_SCOPES = (SCOPE_EMAIL, SCOPE_DATABASE)
WRITE_METHODS = faults.WRITE_METHODS
METHODS = ("GET", "HEAD", "PUT", "PATCH", "POST", "DELETE")
QUERY_PARAMS_NEEDING_ORDER_BY = ("limitToFirst", "limitToLast", "startAt", "endAt", "equalTo", "startAfter",
                                 "endBefore")
PUSH_CHARS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
DROP = object()


class Response:
    def __init__(self, status=200, body=b"", headers=None, content_type="application/json; charset=utf-8"):
        self.status = status
        self.headers = dict(headers or {})
        self.body = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        if content_type and status != 204:
            self.headers.setdefault("Content-Type", content_type)


def error_response(status, message, headers=None):
    """Firebase's error shape, as it prints it: {"error" : "text"} on indented lines."""
    body = '{\n  "error" : %s\n}' % json.dumps(message, ensure_ascii=False)
    return Response(status, body, headers)


def json_response(obj, status=200, headers=None, pretty=False):
    return Response(status, tree.dumps(obj, pretty), headers)


class PushIds:
    """Firebase push ids: 8 characters of milliseconds then 12 random ones, increasing within a millisecond."""

    def __init__(self):
        self.lock = threading.Lock()
        self.last_ms = 0
        self.last_rand = [0] * 12

    def next(self):
        with self.lock:
            now = int(time.time() * 1000)
            if now == self.last_ms:
                for i in range(11, -1, -1):
                    if self.last_rand[i] < 63:
                        self.last_rand[i] += 1
                        break
                    self.last_rand[i] = 0
            else:
                self.last_ms = now
                self.last_rand = [random.randrange(64) for _ in range(12)]
            head = []
            t = now
            for _ in range(8):
                head.append(PUSH_CHARS[t % 64])
                t //= 64
            return "".join(reversed(head)) + "".join(PUSH_CHARS[i] for i in self.last_rand)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.default_ns = args.ns
        self.dbs = {}
        self.dbs_lock = threading.Lock()  # creation of namespaces; st.lock guards their contents
        self.faults = faults.Faults()
        self.push_ids = PushIds()
        self.log = []
        self.seq = 0
        self.counts = collections.Counter()
        self.config = {}
        self.reset_config()
        self.tokens = {}
        self.secrets = set()
        self.reset_auth()

    def reset_config(self):
        self.config.clear()
        self.config.update({"max_write_bytes": self.args.max_write_bytes,
                            "max_string_bytes": self.args.max_string_bytes,
                            "open": bool(self.args.open)})

    def reset_auth(self):
        self.tokens = {t: {"scopes": list(REQUIRED_SCOPES), "expires_at": None} for t in self.args.static_token or []}
        self.secrets = set(self.args.secret or [])

    def db(self, ns):
        with self.dbs_lock:
            d = self.dbs.get(ns)
            if d is None:
                d = self.dbs[ns] = tree.Database()
            return d

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
            if len(self.log) > 20000:
                del self.log[:5000]
            self.counts["requests"] += 1
            if entry["method"] in WRITE_METHODS:
                self.counts["writes"] += 1
        return entry

    def count(self, entry):
        with self.lock:
            self.counts["%s %s" % (entry["method"], entry["status"])] += 1

    # ------------------------------------------------------------------------------------------------ auth
    def authenticate(self, headers, query):
        """The kind of credential that was accepted; raises FirebaseError 401 otherwise."""
        if "auth" in query:
            if query["auth"] in self.secrets:
                return "secret"
            raise FirebaseError(401, tree.MSG_AUTH_TOKEN)
        token, kind = None, None
        if "access_token" in query:
            token, kind = query["access_token"], "access_token"
        else:
            h = headers.get("Authorization") or ""
            scheme, _, value = h.strip().partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                token, kind = value.strip(), "bearer"
        if token is None:
            if self.config["open"]:
                return "none"
            raise FirebaseError(401, tree.MSG_PERMISSION)
        if token == "owner" and self.args.emulator and kind == "bearer":
            return "owner"
        info = self.tokens.get(token)
        if info is None or (info["expires_at"] is not None and info["expires_at"] <= time.time()) or \
                not all(s in info["scopes"] for s in REQUIRED_SCOPES):
            raise FirebaseError(401, tree.MSG_PERMISSION)
        return kind


def redact_query(query):
    return {k: ("<redacted>" if k in ("auth", "access_token") else v) for k, v in query.items()}


def single_query(qs):
    """Query parameters, the last value of each name winning."""
    return {k: v[-1] for k, v in urllib.parse.parse_qs(qs, keep_blank_values=True).items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "firebase-fake/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        if os.environ.get("FIREBASE_FAKE_VERBOSE"):
            sys.stderr.write("%s\n" % (fmt % args))

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_OPTIONS(self):
        self._handle("OPTIONS")

    def _read_body(self, limit):
        """(body, size). body is None when it is larger than limit (the bytes are read and thrown away)."""
        out, size, over = [], 0, False
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline(1024).strip()
                n = int(line.split(b";")[0], 16)
                if n == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    break
                left = n
                while left:
                    part = self.rfile.read(min(left, 1 << 20))
                    if not part:
                        raise OSError("connection closed inside a chunk")
                    left -= len(part)
                    size += len(part)
                    if limit is not None and size > limit:
                        over, out = True, []
                    if not over:
                        out.append(part)
                self.rfile.readline(16)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            if n < 0:
                raise ValueError("negative Content-Length")
            over = limit is not None and n > limit
            left = n
            while left:
                part = self.rfile.read(min(left, 1 << 20))
                if not part:
                    raise OSError("connection closed inside the body")
                left -= len(part)
                size += len(part)
                if not over:
                    out.append(part)
        return (None if over else b"".join(out)), size

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, resp, method):
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.status != 204:
            self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if method != "HEAD" and resp.status != 204 and resp.body:
            self.wfile.write(resp.body)

    def _handle(self, http_method):
        st = self.server.state
        raw_path, _, qs = self.path.partition("?")
        control = raw_path == "/_fake" or raw_path.startswith("/_fake/")
        method = http_method
        override = self.headers.get("X-HTTP-Method-Override")
        if http_method == "POST" and override and not control:
            method = override.strip().upper()
        limit = st.config["max_write_bytes"] if method in WRITE_METHODS and not control else None
        try:
            body, size = self._read_body(limit)
        except (ValueError, OSError):
            self._drop()
            return
        query = single_query(qs)
        if control:
            try:
                resp = control_api(st, http_method, raw_path, query, body)
            except FirebaseError as e:
                resp = error_response(e.status, e.message, e.headers)
            except (ValueError, KeyError, TypeError) as e:
                resp = json_response({"error": "%s: %s" % (type(e).__name__, e)}, 400)
            self._send(resp, http_method)
            return
        entry = st.record({"time": time.time(), "method": method, "http_method": http_method,
                           "raw_path": raw_path, "path": None, "ns": query.get("ns") or st.default_ns,
                           "query": redact_query(query), "body_bytes": size, "status": None, "fault": None,
                           "auth": None})
        try:
            resp = serve(st, method, self.path, query, dict(self.headers.items()), body, entry)
        except PreconditionFailed as e:
            resp = json_response(tree.render(e.node), 412, e.headers)
        except FirebaseError as e:
            resp = error_response(e.status, e.message, e.headers)
        except Exception as e:  # never hang a client on a bug of the stand-in
            import traceback
            traceback.print_exc()
            resp = error_response(500, "firebase stand-in internal error: %r" % e)
        if resp is DROP:
            entry["status"] = "dropped"
            st.count(entry)
            self._drop()
            return
        entry["status"] = resp.status
        st.count(entry)
        self._send(resp, http_method)


def _written_paths(method, segs, body):
    """The locations a request touches, for fault rules with a prefix."""
    if segs is None:
        return []
    paths = [segs]
    if method == "PATCH" and body:
        try:
            obj = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            obj = None
        if isinstance(obj, dict):
            paths += [segs + tree.split_path(k) for k in obj]
    return paths


def serve(st, method, target, query, headers, body, entry):
    """Answer one REST request: a Response, or DROP to close the connection without an answer."""
    ns = entry["ns"]
    raw_path = target.partition("?")[0]
    has_suffix = raw_path.endswith(".json")
    try:
        segs = tree.parse_url_path(raw_path[:-len(".json")]) if has_suffix else None
    except FirebaseError:
        segs = None
    if segs is not None:
        entry["path"] = tree.path_text(segs)
    hit = st.faults.match({"method": method, "target": target, "ns": ns, "paths": _written_paths(method, segs, body)})
    rule = None
    if hit:
        entry["fault"], rule = hit
        if rule.delay:
            time.sleep(rule.delay)
        if rule.drop == "before":
            return DROP
        if rule.status is not None:
            hdrs = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
            return error_response(rule.status, rule.message or faults.DEFAULT_MESSAGES.get(rule.status, "Error"),
                                  hdrs)
    resp = handle(st, method, raw_path, query, headers, body, entry, ns)
    if rule and rule.drop == "after":
        return DROP
    return resp


def handle(st, method, raw_path, query, headers, body, entry, ns):
    if method == "OPTIONS":
        return Response(200, b"", {"Access-Control-Allow-Methods": "GET, PUT, POST, PATCH, DELETE, OPTIONS",
                                   "Access-Control-Allow-Headers": "Authorization, Content-Type, "
                                                                   "X-HTTP-Method-Override, X-Firebase-ETag, if-match",
                                   "Access-Control-Max-Age": "3600"}, "text/plain")
    if not raw_path.endswith(".json"):
        return Response(405, tree.MSG_NO_JSON_SUFFIX, {}, "text/plain; charset=utf-8")
    if method not in METHODS:
        return error_response(405, "Invalid method: %s" % method)
    if body is None:
        raise FirebaseError(400, tree.MSG_TOO_BIG)
    entry["auth"] = st.authenticate(headers, query)
    segs = tree.parse_url_path(raw_path[:-len(".json")])
    pretty = query.get("print") == "pretty"
    silent = query.get("print") == "silent"
    db = st.db(ns)
    max_string = st.config["max_string_bytes"]

    if method in ("GET", "HEAD"):
        if "orderBy" not in query and any(p in query for p in QUERY_PARAMS_NEEDING_ORDER_BY):
            raise FirebaseError(400, tree.MSG_ORDER_BY)
        if "orderBy" in query:
            raise FirebaseError(400, "The Firebase stand-in does not support queries (orderBy, limitToFirst, "
                                     "limitToLast, startAt, endAt, equalTo).")
        with st.lock:
            node = db.get(segs)
            out = tree.shallow(node) if query.get("shallow") == "true" else tree.render(node)
            hdrs = {"ETag": tree.etag(node)} if headers.get("X-Firebase-ETag", "").lower() == "true" else {}
        return json_response(out, 200, hdrs, pretty)

    if method == "DELETE":
        with st.lock:
            check_if_match(headers, db.get(segs))
            db.set(segs, None)
        return Response(204) if silent else json_response(None, 200, {}, pretty)

    text, value = tree.parse_json(body)
    now_ms = int(time.time() * 1000)
    if method == "PATCH":
        updates = tree.parse_patch_keys(text, value, segs, max_string)
        echo = {}
        with st.lock:
            for (sub, v), key in zip(updates, value):
                target = segs + sub
                stored = tree.normalize(v, db.get(target), now_ms)
                db.set(target, stored)
                echo[key] = tree.render(stored)
        return Response(204) if silent else json_response(echo, 200, {}, pretty)

    if method == "POST":
        name = st.push_ids.next()
        segs = segs + [name]
        if len(segs) > tree.MAX_DEPTH:
            raise FirebaseError(400, tree.MSG_DEPTH)
    problem = tree.validate_value(value, len(segs), max_string)
    if problem:
        tree.raise_problem(problem, text, False, max_string)
    with st.lock:
        existing = db.get(segs)
        if method == "PUT":
            check_if_match(headers, existing)
        stored = tree.normalize(value, existing, now_ms)
        db.set(segs, stored)
    if silent:
        return Response(204)
    if method == "POST":
        return json_response({"name": name}, 200, {}, pretty)
    return json_response(tree.render(stored), 200, {}, pretty)


def check_if_match(headers, node):
    want = headers.get("if-match") or headers.get("If-Match")
    if want is None:
        return
    have = tree.etag(node)
    if want.strip() != have:
        raise PreconditionFailed(node, have)


class PreconditionFailed(FirebaseError):
    """412: Firebase answers with the current value and its ETag, so the client can retry."""

    def __init__(self, node, have):
        super().__init__(412, "ETag mismatch", {"ETag": have})
        self.node = node


# ------------------------------------------------------------------------------------------------ control API

def _db_segments(parts):
    return [urllib.parse.unquote(p) for p in parts if p]


def control_api(st, method, raw_path, query, body):
    obj = json.loads(body) if body else None
    parts = raw_path[len("/_fake/"):].split("/") if raw_path.startswith("/_fake/") else []
    head = parts[0] if parts else ""
    rest = parts[1:]
    ns = query.get("ns") or st.default_ns
    if head == "health":
        return json_response({"ok": True})
    if head == "db":
        segs = _db_segments(rest)
        if method == "GET":
            with st.lock:
                node = st.db(ns).get(segs)
                return json_response(tree.raw(node) if query.get("raw") in ("1", "true") else tree.render(node))
        if method == "PUT":
            text = body.decode("utf-8") if body else "null"
            problem = tree.validate_value(obj, len(segs), st.config["max_string_bytes"])
            if problem:
                tree.raise_problem(problem, text, False, st.config["max_string_bytes"])
            with st.lock:
                db = st.db(ns)
                db.set(segs, tree.normalize(obj, db.get(segs), int(time.time() * 1000)))
                return json_response(tree.render(db.get(segs)))
        if method == "DELETE":
            with st.lock:
                if segs:
                    st.db(ns).set(segs, None)
                else:
                    with st.dbs_lock:
                        st.dbs.pop(ns, None)
            return json_response({"ok": True})
    if head == "namespaces" and method == "GET":
        with st.lock, st.dbs_lock:
            return json_response({"default": st.default_ns,
                                  "namespaces": sorted(n for n, d in st.dbs.items() if d.root is not None)})
    if head == "reset" and method == "POST":
        opts = obj or {}
        with st.lock:
            if opts.get("data", True):
                with st.dbs_lock:
                    st.dbs.clear()
            if opts.get("log", True):
                st.log.clear()
                st.counts.clear()
            if opts.get("config", True):
                st.reset_config()
            if opts.get("tokens", False):
                st.reset_auth()
        if opts.get("faults", True):
            st.faults.clear()
        return json_response({"ok": True})
    if head == "faults":
        if method == "POST":
            if isinstance(obj, dict):
                st.faults.set(obj.get("rules", []), append=bool(obj.get("append")))
            else:
                st.faults.set(obj or [])
        elif method == "DELETE":
            st.faults.clear()
        return json_response({"rules": st.faults.to_json(), "fired": st.faults.fired})
    if head == "requests":
        if method == "DELETE":
            with st.lock:
                st.log.clear()
            return json_response({"ok": True})
        since = int(query.get("since", "0"))
        want = query.get("method")
        writes = query.get("writes") in ("1", "true")
        with st.lock:
            out = [dict(e) for e in st.log if e["seq"] > since and (not want or e["method"] == want.upper())
                   and (not writes or e["method"] in WRITE_METHODS)]
        return json_response(out)
    if head == "stats" and method == "GET":
        with st.lock:
            return json_response({"counts": dict(st.counts), "faults_fired": st.faults.fired})
    if head == "tokens" and method == "POST":
        if rest and rest[0] == "expire":
            with st.lock:
                if obj["token"] in st.tokens:
                    st.tokens[obj["token"]]["expires_at"] = time.time() - 1
            return json_response({"ok": True})
        scopes = obj.get("scopes", list(REQUIRED_SCOPES))
        if isinstance(scopes, str):
            scopes = scopes.split()
        exp = obj.get("expires_in")
        with st.lock:
            st.tokens[obj["token"]] = {"scopes": list(scopes), "expires_at": time.time() + exp if exp else None}
        return json_response({"ok": True})
    if head == "secrets" and method == "POST":
        with st.lock:
            st.secrets.add(obj["secret"])
        return json_response({"ok": True})
    if head == "config":
        if method == "POST":
            for k, v in (obj or {}).items():
                if k not in st.config:
                    raise ValueError("unknown config key %s" % k)
                st.config[k] = bool(v) if k == "open" else int(v)
        return json_response(dict(st.config))
    return json_response({"error": "unknown control endpoint %s %s" % (method, raw_path)}, 404)


# ------------------------------------------------------------------------------------------------------ main

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def build_parser():
    ap = argparse.ArgumentParser(prog="firebase_fake",
                                 description="Local Firebase Realtime Database REST stand-in for mayaflow tests")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    ap.add_argument("--ns", default="test-project-default-rtdb",
                    help="the database used when a request has no ?ns= (default: %(default)s)")
    ap.add_argument("--static-token", action="append", help="accept this OAuth2 access token (repeatable)")
    ap.add_argument("--secret", action="append", help="accept this database secret as ?auth= (repeatable)")
    ap.add_argument("--emulator", action="store_true",
                    help="also accept 'Authorization: Bearer owner' as the emulator does")
    ap.add_argument("--open", action="store_true", help="accept requests without credentials (open rules)")
    ap.add_argument("--max-write-bytes", type=int, default=tree.DEFAULT_MAX_WRITE_BYTES,
                    help="largest write request body (default 256 MB, as the REST API)")
    ap.add_argument("--max-string-bytes", type=int, default=tree.DEFAULT_MAX_STRING_BYTES,
                    help="largest string value in UTF-8 bytes (default 10 MB)")
    ap.add_argument("--seed", help="a JSON file loaded into the default database at start-up")
    return ap


def create_server(argv=None):
    """Parse options and bind the server without serving: (server, ready-line dict). A combined launcher calls
    this, then runs server.serve_forever() in a thread and server.shutdown() to stop; main() does it alone."""
    args = build_parser().parse_args(argv)
    st = State(args)
    if args.seed:
        with open(args.seed, "rb") as f:
            text, value = tree.parse_json(f.read())
        problem = tree.validate_value(value, 0, args.max_string_bytes)
        if problem:
            tree.raise_problem(problem, text, False, args.max_string_bytes)
        st.db(args.ns).set([], tree.normalize(value, None, int(time.time() * 1000)))
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = st
    port = srv.server_address[1]
    base = "http://127.0.0.1:%d" % port
    info = {"service": "firebase", "port": port, "base_url": base, "pid": os.getpid(), "namespace": args.ns,
            "database_url": "%s?ns=%s" % (base, args.ns), "emulator": bool(args.emulator),
            "env": {"FIREBASE_DATABASE_EMULATOR_HOST": "127.0.0.1:%d" % port}}
    return srv, info


def main(argv=None):
    srv, info = create_server(argv)
    stop = threading.Event()

    def on_signal(signum, frame):
        if not stop.is_set():
            stop.set()
            threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    import faulthandler
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 <pid> dumps stacks to stderr
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
    return 0
