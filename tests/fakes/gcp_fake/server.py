"""One loopback HTTP/1.1 server for all stand-ins: /token, /computeMetadata, /storage, /download/storage,
/bigquery/v2 and the test control API under /_fake/."""
import argparse
import collections
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import auth, bigquery_api, bq_functions, bq_store, discovery, faults, gcs
from .util import GoogleError, Response, json_response

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(os.path.dirname(HERE), "testdata")
DEFAULT_TIMING = {"job_duration_s": 0.0, "running_polls": 1, "max_wait_s": 2.0}


class State:
    def __init__(self, args):
        self.args = args
        self.base_url = None
        self.lock = threading.Lock()
        pub = json.load(open(os.path.join(TESTDATA, "service_account.pub.json")))
        self.tokens = auth.TokenStore(pub["keys"], args.project)
        self.storage = gcs.Storage(args.data, lambda: self.base_url)
        self.store = bq_store.Store(args.state, bq_functions.install)
        self.timing = dict(DEFAULT_TIMING)
        self.bigquery = bigquery_api.BigQuery(self.store, self.storage, discovery.load("bigquery"), args.project,
                                              lambda: self.base_url, self.timing)
        self.faults = faults.Faults()
        self.counts = collections.Counter()
        self.log = []
        self.seq = 0
        for t in args.static_token or []:
            self.tokens.add_static(t)
        for d in args.dataset or []:
            p, _, ds = d.rpartition(":")
            self.store.create_dataset(p or args.project, ds) if not self.store.dataset(p or args.project, ds) else None

    def record(self, method, path, query, headers, body):
        hdrs = {}
        for k, v in headers.items():
            if k.lower() == "authorization":
                v = v.split(" ")[0] + " <redacted>"
            hdrs[k] = v
        entry = {"method": method, "path": path, "query": query, "headers": hdrs, "time": time.time()}
        ctype = headers.get("Content-Type", "")
        if body:
            if "json" in ctype or body[:1] in (b"{", b"["):
                try:
                    entry["json"] = json.loads(body)
                except ValueError:
                    entry["body_text"] = body[:2000].decode("utf-8", "replace")
            elif "x-www-form-urlencoded" in ctype:
                form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
                entry["form"] = {k: (v[0] if k != "assertion" else "<redacted %d chars>" % len(v[0]))
                                 for k, v in form.items()}
            else:
                entry["body_bytes"] = len(body)
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
            if len(self.log) > 5000:
                del self.log[:1000]


def route_label(method, path):
    p = path
    m = re.match(r"^/bigquery/v2/projects/[^/]+(/.*)?$", p)
    if m:
        rest = (m.group(1) or "").strip("/").split("/") if m.group(1) else []
        rest = ["{}" if i % 2 == 1 else s for i, s in enumerate(rest)]
        return "%s /bigquery/v2/projects/{}/%s" % (method, "/".join(rest))
    m = re.match(r"^(/download)?/storage/v1/b/([^/]+)(/o(/.+)?)?$", p)
    if m:
        return "%s %s/storage/v1/b/{}%s" % (method, m.group(1) or "", "/o" + ("/{}" if m.group(4) else "")
                                            if m.group(3) else "")
    if p.startswith("/computeMetadata/"):
        return "%s %s" % (method, p)
    return "%s %s" % (method, p)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcp-fake/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        if os.environ.get("GCP_FAKE_VERBOSE"):
            sys.stderr.write("%s\n" % (fmt % args))

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline().strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_HEAD(self):
        self._handle("HEAD")

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
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("Vary", "Origin, X-Origin, Referer")
        self.end_headers()
        if method != "HEAD" and resp.body:
            self.wfile.write(resp.body)

    def _handle(self, method):
        st = self.server.state
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self._drop()
            return
        raw_path, _, qs = self.path.partition("?")
        query = urllib.parse.parse_qs(qs, keep_blank_values=True)
        headers = {k: v for k, v in self.headers.items()}
        if raw_path.startswith("/_fake/"):
            try:
                resp = control(st, method, raw_path, query, body)
            except (ValueError, KeyError, TypeError) as e:
                resp = json_response({"error": str(e)}, 400)
            except GoogleError as e:
                resp = e.response()
            self._send(resp, method)
            return
        st.record(method, raw_path, {k: v if len(v) > 1 else v[0] for k, v in query.items()}, headers, body)
        with st.lock:
            st.counts[route_label(method, raw_path)] += 1
        service = "token" if raw_path in ("/token", "/oauth2/v4/token") else \
            "gcs" if "/storage/v1/" in raw_path else "metadata" if raw_path.startswith("/computeMetadata") else "bq"
        rule = st.faults.match(method, self.path)
        if rule and rule.delay:
            time.sleep(rule.delay)
        if rule and rule.answers_without_work():
            if rule.drop == "before":
                self._drop()
                return
            self._send(rule.error_response(service), method)
            return
        try:
            resp = dispatch(st, method, raw_path, query, headers, body)
        except GoogleError as e:
            resp = e.response()
        except Exception as e:  # never hang a client on a fake bug
            import traceback
            traceback.print_exc()
            resp = GoogleError(500, "gcp fake internal error: %r" % e, "backendError").response()
        if rule and rule.drop == "after":
            self._drop()
            return
        if rule:
            resp = rule.mangle(resp)
        self._send(resp, method)


def dispatch(st, method, path, query, headers, body):
    if path in ("/token", "/oauth2/v4/token"):
        if method != "POST":
            return json_response({"error": "invalid_request", "error_description": "Method not allowed"}, 405)
        return auth.token_endpoint(st.tokens, body, headers.get("Content-Type"))
    if path.startswith("/computeMetadata") or path == "/":
        return auth.metadata(st.tokens, method, path, query, headers)
    if path.startswith("/storage/v1/") or path.startswith("/download/storage/v1/"):
        auth.require_bearer(st.tokens, headers, query, "gcs")
        return st.storage.handle(method, path, query, headers)
    if path.startswith("/bigquery/v2/"):
        token = auth.require_bearer(st.tokens, headers, query, "bq")
        return st.bigquery.handle(method, path[len("/bigquery/v2/"):], query, body, token)
    if path.startswith("/upload/"):
        raise GoogleError(501, "The stand-in does not implement media uploads (%s)." % path, "notImplemented")
    raise GoogleError(404, "The requested URL %s was not found on this server." % path, "notFound")


def control(st, method, path, query, body):
    obj = json.loads(body) if body else None
    parts = path[len("/_fake/"):].strip("/").split("/")
    head = parts[0]
    if head == "health":
        return json_response({"ok": True})
    if head == "reset" and method == "POST":
        obj = obj or {}
        st.bigquery.reset(tables=bool(obj.get("tables")))
        st.faults.clear()
        with st.lock:
            st.counts.clear()
            st.log.clear()
        st.timing.clear()
        st.timing.update(DEFAULT_TIMING)
        if obj.get("tokens"):
            st.tokens.reset()
            for t in st.args.static_token or []:
                st.tokens.add_static(t)
        else:
            st.tokens.issued = 0
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
    if head == "stats":
        with st.lock:
            counts = dict(st.counts)
        return json_response({"requests": counts, "jobs": dict(st.bigquery.counters),
                              "tokens_issued": st.tokens.issued, "faults_fired": st.faults.fired})
    if head == "requests":
        if method == "DELETE":
            with st.lock:
                st.log.clear()
            return json_response({"ok": True})
        since = int(query.get("since", ["0"])[0])
        with st.lock:
            return json_response([e for e in st.log if e["seq"] > since])
    if head == "tokens":
        if len(parts) > 1 and parts[1] == "expire":
            st.tokens.expire(obj["token"])
            return json_response({"ok": True})
        st.tokens.add_static(obj["token"], obj.get("account", "static-test@%s.iam.gserviceaccount.com" % st.args.project),
                             obj.get("scopes", [auth.CLOUD_PLATFORM]), obj.get("expires_in"))
        return json_response({"ok": True})
    if head == "config":
        if method == "POST":
            for k, v in (obj or {}).items():
                if k not in DEFAULT_TIMING:
                    raise ValueError("unknown config key %s" % k)
                st.timing[k] = type(DEFAULT_TIMING[k])(v)
        return json_response(dict(st.timing))
    if head == "jobs" and len(parts) == 3 and parts[2] == "state" and method == "POST":
        return json_response(st.bigquery.force_state(urllib.parse.unquote(parts[1]), obj or {}))
    if head == "datasets" and method == "POST":
        p = obj.get("projectId", st.args.project)
        if not st.store.dataset(p, obj["datasetId"]):
            st.store.create_dataset(p, obj["datasetId"], obj.get("location", "US"))
        return json_response({"ok": True})
    if head == "projects" and method == "POST":
        st.bigquery.projects.add(obj["projectId"])
        return json_response({"ok": True})
    return json_response({"error": "unknown control endpoint %s %s" % (method, path)}, 404)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main(argv=None):
    ap = argparse.ArgumentParser(description="Local Google Cloud stand-ins for mayaflow tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data", default=os.environ.get("GCP_FAKE_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../..", "data")),
                    help="folder whose sub-folders are GCS buckets")
    ap.add_argument("--state", default=None, help="folder for the BigQuery SQLite file (default: a temp dir)")
    ap.add_argument("--project", default="test-project")
    ap.add_argument("--contracts", default=None, help="folder holding bigquery-v2-discovery.json")
    ap.add_argument("--dataset", action="append", help="pre-create a dataset ([project:]dataset), repeatable")
    ap.add_argument("--static-token", action="append", help="accept this bearer token (cloud-platform scope)")
    args = ap.parse_args(argv)
    if args.contracts:
        os.environ["GCP_FAKE_CONTRACTS"] = args.contracts
    tmp = None
    if not args.state:
        tmp = args.state = tempfile.mkdtemp(prefix="gcp-fake-")
    st = State(args)
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = st
    port = srv.server_address[1]
    st.base_url = "http://127.0.0.1:%d" % port
    key = json.load(open(os.path.join(TESTDATA, "service_account.json")))
    key["token_uri"] = st.base_url + "/token"
    key_file = os.path.join(args.state, "service_account.json")
    with open(key_file, "w") as f:
        json.dump(key, f, indent=2)
    st.tokens.own_token_uri = key["token_uri"]
    info = {"port": port, "base_url": st.base_url, "project": args.project,
            "env": {"STORAGE_EMULATOR_HOST": st.base_url, "BIGQUERY_EMULATOR_HOST": st.base_url,
                    "GCE_METADATA_HOST": "127.0.0.1:%d" % port, "GCE_METADATA_ROOT": "127.0.0.1:%d" % port,
                    "GCE_METADATA_IP": "127.0.0.1:%d" % port, "CLOUD_STORAGE_EMULATOR_HOST": st.base_url},
            "token_uri": key["token_uri"], "key_file": key_file, "state_dir": args.state, "data_dir": args.data}
    stop = threading.Event()

    def on_signal(signum, frame):
        if not stop.is_set():
            stop.set()
            threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    import faulthandler
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1 <pid> dumps stacks to stderr
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        st.bigquery._stop.set()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
