"""Loopback HTTP/1.1 recorder of Slack incoming-webhook posts (POST /services/T.../B.../secret) with the test
control API under /_fake/. See ../FIREBASE-SLACK.md."""
import argparse
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_WEBHOOK = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_BLOCKS = 50
MAX_ATTACHMENTS = 100
TEXT_OBJECT_TYPES = ("plain_text", "mrkdwn")
BLOCK_TYPES = ("section", "divider", "image", "actions", "context", "header", "input", "file", "video",
               "rich_text", "markdown", "table")
# Answers of the real service: ok, and the error strings Slack returns as the whole body (see FIREBASE-SLACK.md).
OK = "ok"
CONTENT_TYPE = "text/html"
FAULT_BODIES = {429: "rate_limited", 500: "rollup_error", 502: "bad_gateway", 503: "service_unavailable",
                504: "gateway_timeout"}


class SlackError(Exception):
    def __init__(self, status, code):
        super().__init__(code)
        self.status = status
        self.code = code


def _reject_constant(name):
    raise ValueError("not JSON")


def _loads(text):
    return json.loads(text, parse_constant=_reject_constant)


def parse_payload(content_type, body):
    """The message object of a webhook post, as Slack reads it: a JSON body, or a form whose `payload` field is
    the JSON. A form without `payload` is read as raw JSON; if that has no usable text Slack says no_text."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SlackError(400, "invalid_payload")
    if ctype == "application/x-www-form-urlencoded":
        form = urllib.parse.parse_qs(text, keep_blank_values=True)
        if "payload" in form:
            text = form["payload"][-1]
        else:
            try:
                obj = _loads(text)
            except (ValueError, RecursionError):
                obj = None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise SlackError(400, "no_text")
            return obj
    try:
        obj = _loads(text)
    except (ValueError, RecursionError):
        raise SlackError(400, "invalid_payload")
    if not isinstance(obj, dict):
        raise SlackError(400, "invalid_payload")
    return obj


def _text_object(t, plain_only=False, max_len=3000):
    return (isinstance(t, dict) and t.get("type") in (("plain_text",) if plain_only else TEXT_OBJECT_TYPES)
            and isinstance(t.get("text"), str) and 0 < len(t["text"]) <= max_len)


def _element(e):
    return isinstance(e, dict) and isinstance(e.get("type"), str) and e["type"] != ""


def valid_block(b):
    if not isinstance(b, dict) or not isinstance(b.get("type"), str) or b["type"] not in BLOCK_TYPES:
        return False
    if "block_id" in b and (not isinstance(b["block_id"], str) or not 0 < len(b["block_id"]) <= 255):
        return False
    t = b["type"]
    if t == "section":
        has_text = "text" in b
        if has_text and not _text_object(b["text"]):
            return False
        if "fields" in b:
            f = b["fields"]
            if not isinstance(f, list) or not 0 < len(f) <= 10 or not all(_text_object(x, max_len=2000) for x in f):
                return False
        elif not has_text:
            return False
        return "accessory" not in b or _element(b["accessory"])
    if t == "header":
        return _text_object(b.get("text"), plain_only=True, max_len=150)
    if t == "context":
        els = b.get("elements")
        return isinstance(els, list) and 0 < len(els) <= 10 and all(
            _text_object(e) or (isinstance(e, dict) and e.get("type") == "image") for e in els)
    if t == "actions":
        els = b.get("elements")
        return isinstance(els, list) and 0 < len(els) <= 25 and all(_element(e) for e in els)
    if t == "image":
        return (isinstance(b.get("image_url"), str) or isinstance(b.get("slack_file"), dict)) and \
            isinstance(b.get("alt_text"), str)
    if t == "markdown":
        return isinstance(b.get("text"), str) and b["text"] != ""
    if t == "rich_text":
        els = b.get("elements")
        return isinstance(els, list) and all(_element(e) for e in els)
    return True


def check_message(obj):
    """Raise SlackError as Slack answers a message it refuses."""
    blocks = obj.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = _loads(blocks)
        except (ValueError, RecursionError):
            raise SlackError(400, "invalid_blocks_format")
    if blocks is not None:
        if not isinstance(blocks, list):
            raise SlackError(400, "invalid_blocks_format")
        if len(blocks) > MAX_BLOCKS or not all(valid_block(b) for b in blocks):
            raise SlackError(400, "invalid_blocks")
    attachments = obj.get("attachments")
    if isinstance(attachments, str):
        try:
            attachments = _loads(attachments)
        except (ValueError, RecursionError):
            raise SlackError(400, "invalid_attachments")
    if attachments is not None:
        if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
            raise SlackError(400, "invalid_attachments")
        if len(attachments) > MAX_ATTACHMENTS:
            raise SlackError(400, "too_many_attachments")
    text = obj.get("text")
    if text is not None and not isinstance(text, str):
        raise SlackError(400, "invalid_payload")
    has_text = isinstance(text, str) and text.strip() != ""
    if not (has_text or blocks or attachments):
        raise SlackError(400, "no_text" if "text" in obj else "missing_text_or_fallback_or_attachments")


def webhook_parts(path):
    m = re.match(r"^/services/([^/]+)/([^/]+)/([^/]+)/?$", path)
    return m.groups() if m else None


class Rule:
    KEYS = {"path", "nth", "times", "status", "retry_after", "body", "drop", "delay"}

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault rule must be an object")
        unknown = set(spec) - self.KEYS
        if unknown:
            raise ValueError("unknown fault rule keys: %s" % ", ".join(sorted(unknown)))
        self.spec = spec
        self.path = re.compile(spec["path"]) if spec.get("path") else None
        self.nth = int(spec.get("nth", 1))
        if self.nth < 1:
            raise ValueError("nth counts from 1")
        times = spec.get("times", 1)
        self.remaining = None if times in (None, -1) else int(times)
        self.status = int(spec["status"]) if spec.get("status") is not None else None
        self.retry_after = spec.get("retry_after")
        self.body = spec.get("body")
        self.drop = spec.get("drop")
        if self.drop not in (None, "before", "after"):
            raise ValueError("drop must be 'before' or 'after'")
        self.delay = float(spec.get("delay") or 0)
        if self.status is None and self.drop is None and not self.delay:
            raise ValueError("a fault rule needs status, drop or delay")
        if self.status is not None and self.drop is not None:
            raise ValueError("a fault rule has either status or drop")
        self.seen = 0
        self.fired = 0

    def to_json(self):
        return dict(self.spec, remaining=self.remaining, seen=self.seen, fired=self.fired)


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.messages = []
        self.requests = []
        self.seq = 0
        self.rules = []
        self.faults_fired = 0
        self.webhooks = set(args.webhook or [])
        self.max_body_bytes = args.max_body_bytes

    def match_fault(self, path):
        with self.lock:
            for i, r in enumerate(self.rules):
                if r.remaining is not None and r.remaining <= 0:
                    continue
                if r.path and not r.path.search(path):
                    continue
                r.seen += 1
                if r.seen < r.nth:
                    continue
                if r.remaining is not None:
                    r.remaining -= 1
                r.fired += 1
                self.faults_fired += 1
                return i, r
        return None

    def check_webhook(self, path):
        parts = webhook_parts(path)
        if parts is None:
            raise SlackError(404, "no_service")
        with self.lock:
            known = set(self.webhooks)
        if not known or path.rstrip("/") in known:
            return
        for w in known:
            p = webhook_parts(w)
            if p and p[:2] == parts[:2]:
                raise SlackError(403, "invalid_token")
        raise SlackError(404, "no_service")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "slack-fake/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        if os.environ.get("SLACK_FAKE_VERBOSE"):
            sys.stderr.write("%s\n" % (fmt % args))

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_HEAD(self):
        self._handle("HEAD")

    def _read_body(self, limit):
        """(body, size); body None when larger than limit (read and thrown away)."""
        out, size, over = [], 0, False
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                n = int(self.rfile.readline(1024).strip().split(b";")[0], 16)
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

    def _send(self, status, body, method, content_type=CONTENT_TYPE, headers=None):
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if method != "HEAD" and data:
            self.wfile.write(data)

    def _handle(self, method):
        st = self.server.state
        path, _, qs = self.path.partition("?")
        control = path == "/_fake" or path.startswith("/_fake/")
        try:
            body, size = self._read_body(None if control else st.max_body_bytes)
        except (ValueError, OSError):
            self._drop()
            return
        if control:
            try:
                status, obj = control_api(st, method, path, qs, body)
            except (ValueError, KeyError, TypeError) as e:
                status, obj = 400, {"error": "%s: %s" % (type(e).__name__, e)}
            self._send(status, json.dumps(obj, ensure_ascii=False), method, "application/json; charset=utf-8")
            return
        entry = {"time": time.time(), "method": method, "path": path, "content_type": self.headers.get("Content-Type"),
                 "body_bytes": size, "status": None, "error": None, "fault": None}
        hit = st.match_fault(path)
        rule = None
        if hit:
            entry["fault"], rule = hit
            if rule.delay:
                time.sleep(rule.delay)
            if rule.drop == "before":
                self._finish(st, entry, "dropped", None)
                self._drop()
                return
            if rule.status is not None:
                text = rule.body or FAULT_BODIES.get(rule.status, "error")
                hdrs = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
                self._finish(st, entry, rule.status, text)
                self._send(rule.status, text, method, headers=hdrs)
                return
        message = None
        try:
            if not path.startswith("/services/"):
                raise SlackError(404, "not_found")
            if method != "POST":
                raise SlackError(405, "method_not_allowed")
            st.check_webhook(path)
            if body is None:
                raise SlackError(413, "request_too_large")
            obj = parse_payload(self.headers.get("Content-Type"), body)
            check_message(obj)
            message = {"time": entry["time"], "path": path, "content_type": entry["content_type"], "payload": obj}
            for k in ("text", "blocks", "attachments", "channel", "username", "icon_emoji", "icon_url", "thread_ts"):
                if k in obj:
                    message[k] = obj[k]
            status, text = 200, OK
        except SlackError as e:
            status, text = e.status, e.code
        self._finish(st, entry, status, None if status == 200 else text, message)
        if rule and rule.drop == "after":
            self._drop()
            return
        self._send(status, text, method)

    def _finish(self, st, entry, status, error, message=None):
        with st.lock:
            st.seq += 1
            entry["seq"] = st.seq
            entry["status"] = status
            entry["error"] = error
            st.requests.append(entry)
            if len(st.requests) > 20000:
                del st.requests[:5000]
            if message is not None:
                message["seq"] = st.seq
                st.messages.append(message)
            st.changed.notify_all()


def control_api(st, method, path, qs, body):
    obj = json.loads(body) if body else None
    query = {k: v[-1] for k, v in urllib.parse.parse_qs(qs, keep_blank_values=True).items()}
    parts = path[len("/_fake/"):].split("/") if path.startswith("/_fake/") else []
    head = parts[0] if parts else ""
    if head == "health":
        return 200, {"ok": True}
    if head == "messages":
        if method == "DELETE":
            with st.lock:
                st.messages.clear()
            return 200, {"ok": True}
        since = int(query.get("since", "0"))
        want = query.get("path")
        count = int(query.get("count", "0"))
        deadline = time.time() + min(float(query.get("timeout", "0")), 30.0)

        def select():
            return [m for m in st.messages if m["seq"] > since and (not want or m["path"] == want)]
        with st.changed:
            out = select()
            while len(out) < count and time.time() < deadline:
                st.changed.wait(max(0.01, deadline - time.time()))
                out = select()
            return 200, [dict(m) for m in out]
    if head == "requests":
        if method == "DELETE":
            with st.lock:
                st.requests.clear()
            return 200, {"ok": True}
        since = int(query.get("since", "0"))
        with st.lock:
            return 200, [dict(e) for e in st.requests if e["seq"] > since]
    if head == "reset" and method == "POST":
        with st.lock:
            st.messages.clear()
            st.requests.clear()
            st.rules = []
            st.faults_fired = 0
            if (obj or {}).get("webhooks"):
                st.webhooks = set(st.args.webhook or [])
            st.max_body_bytes = st.args.max_body_bytes
        return 200, {"ok": True}
    if head == "faults":
        if method == "POST":
            specs, append = (obj.get("rules", []), bool(obj.get("append"))) if isinstance(obj, dict) else (obj or [], False)
            rules = [Rule(s) for s in specs]
            with st.lock:
                st.rules = (st.rules if append else []) + rules
        elif method == "DELETE":
            with st.lock:
                st.rules = []
                st.faults_fired = 0
        with st.lock:
            return 200, {"rules": [r.to_json() for r in st.rules], "fired": st.faults_fired}
    if head == "webhooks":
        with st.lock:
            if method == "POST":
                p = obj["path"]
                if webhook_parts(p) is None:
                    raise ValueError("a webhook path is /services/<team>/<service>/<secret>")
                st.webhooks.add(p.rstrip("/"))
            elif method == "DELETE":
                st.webhooks.clear()
            return 200, {"webhooks": sorted(st.webhooks)}
    if head == "config":
        with st.lock:
            if method == "POST":
                for k, v in (obj or {}).items():
                    if k != "max_body_bytes":
                        raise ValueError("unknown config key %s" % k)
                    st.max_body_bytes = int(v)
            return 200, {"max_body_bytes": st.max_body_bytes}
    return 404, {"error": "unknown control endpoint %s %s" % (method, path)}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def build_parser():
    ap = argparse.ArgumentParser(prog="slack_fake", description="Local Slack incoming-webhook recorder for mayaflow tests")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    ap.add_argument("--webhook", action="append",
                    help="a known webhook path /services/T/B/secret (repeatable); with none, every such path is accepted")
    ap.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES,
                    help="largest request body accepted (default %(default)s); larger ones get 413")
    return ap


def create_server(argv=None):
    """Parse options and bind the server without serving: (server, ready-line dict). A combined launcher calls
    this, then runs server.serve_forever() in a thread and server.shutdown() to stop; main() does it alone."""
    args = build_parser().parse_args(argv)
    for w in args.webhook or []:
        if webhook_parts(w) is None:
            raise SystemExit("--webhook must look like /services/<team>/<service>/<secret>: %s" % w)
    args.webhook = [w.rstrip("/") for w in args.webhook or []]
    st = State(args)
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = st
    port = srv.server_address[1]
    base = "http://127.0.0.1:%d" % port
    first = (args.webhook or [DEFAULT_WEBHOOK])[0]
    info = {"service": "slack", "port": port, "base_url": base, "pid": os.getpid(),
            "webhook_url": base + first, "webhooks": [base + w for w in args.webhook],
            "env": {"SLACK_WEBHOOK_URL": base + first}}
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
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
    return 0
