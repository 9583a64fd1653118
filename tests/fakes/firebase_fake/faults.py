"""Fault rules for the Realtime Database stand-in (POST /_fake/faults)."""
import re
import threading

WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")
RULE_KEYS = {"match", "method", "path", "prefix", "ns", "nth", "times", "status", "retry_after", "message",
             "drop", "delay"}
# Synthetic texts: Firebase's own 5xx/429 bodies are not documented (see FIREBASE-SLACK.md).
DEFAULT_MESSAGES = {429: "Too many requests.", 500: "Internal server error.", 502: "Bad gateway.",
                    503: "Service unavailable.", 504: "Gateway timeout."}


def _segments(text):
    return [s for s in str(text).split("/") if s]


class Rule:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault rule must be an object")
        unknown = set(spec) - RULE_KEYS
        if unknown:
            raise ValueError("unknown fault rule keys: %s" % ", ".join(sorted(unknown)))
        self.spec = spec
        self.method = spec["method"].upper() if spec.get("method") else None
        self.match = spec.get("match") or ("any" if self.method else "write")
        if self.match not in ("write", "read", "any"):
            raise ValueError("match must be 'write', 'read' or 'any'")
        self.path = re.compile(spec["path"]) if spec.get("path") else None
        self.prefix = _segments(spec["prefix"]) if spec.get("prefix") is not None else None
        self.ns = spec.get("ns")
        self.nth = int(spec.get("nth", 1))
        if self.nth < 1:
            raise ValueError("nth counts from 1")
        times = spec.get("times", 1)
        self.remaining = None if times in (None, -1) else int(times)
        self.status = spec.get("status")
        if self.status is not None:
            self.status = int(self.status)
            if not 300 <= self.status <= 599:
                raise ValueError("status must be an error status (3xx to 5xx)")
        self.retry_after = spec.get("retry_after")
        self.message = spec.get("message")
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

    def matches(self, req):
        m = req["method"]
        if self.method and m != self.method:
            return False
        if self.match == "write" and m not in WRITE_METHODS:
            return False
        if self.match == "read" and m not in ("GET", "HEAD"):
            return False
        if self.ns is not None and req["ns"] != self.ns:
            return False
        if self.path and not self.path.search(req["target"]):
            return False
        if self.prefix is not None:
            n = len(self.prefix)
            if not any(p is not None and p[:n] == self.prefix for p in req["paths"]):
                return False
        return True


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.fired = 0

    def set(self, specs, append=False):
        rules = [Rule(s) for s in specs]
        with self.lock:
            self.rules = (self.rules if append else []) + rules

    def clear(self):
        with self.lock:
            self.rules = []
            self.fired = 0

    def match(self, req):
        """The rule that fires for this request, or None. Every active rule that matches counts the request
        (seen) until one fires; the first rule whose count reaches its nth fires."""
        with self.lock:
            for i, r in enumerate(self.rules):
                if r.remaining is not None and r.remaining <= 0:
                    continue
                if not r.matches(req):
                    continue
                r.seen += 1
                if r.seen < r.nth:
                    continue
                if r.remaining is not None:
                    r.remaining -= 1
                r.fired += 1
                self.fired += 1
                return i, r
        return None

    def to_json(self):
        with self.lock:
            return [r.to_json() for r in self.rules]
