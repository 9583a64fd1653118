"""Per-test fault injection rules (POST /_fake/faults)."""
import json
import re
import threading

from .util import GoogleError, Response

BODY_KINDS = ("json", "html", "malformed", "missing_fields")
DEFAULT_MISSING = ("status", "jobReference", "jobComplete", "schema", "totalRows", "rows", "access_token",
                   "expires_in", "items", "name", "size", "generation", "statistics", "kind")
HTML_PAGE = ("<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error %(code)d (%(reason)s)!!1</title>\n"
             "  <p><b>%(code)d.</b> <ins>That’s an error.</ins>\n  <p>The server encountered a temporary error and "
             "could not complete your request.<p>Please try again in 30 seconds.  <ins>That’s all we know.</ins>\n")
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}
JSON_MESSAGES = {429: ("rateLimitExceeded", "Exceeded rate limits: too many api requests per user per method for this "
                       "user_method. For more information, see https://cloud.google.com/bigquery/docs/troubleshoot-quotas"),
                 500: ("backendError", "Error encountered during execution. Retrying may solve the problem."),
                 502: ("backendError", "Bad Gateway"),
                 503: ("backendError", "The service is currently unavailable."),
                 504: ("backendError", "Deadline exceeded")}


class Rule:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault rule must be an object")
        unknown = set(spec) - {"method", "path", "status", "retry_after", "times", "body", "drop", "delay", "fields",
                               "message", "reason"}
        if unknown:
            raise ValueError("unknown fault rule keys: %s" % ", ".join(sorted(unknown)))
        self.spec = spec
        self.method = (spec.get("method") or "*").upper()
        self.path = re.compile(spec.get("path") or ".*")
        self.status = spec.get("status")
        self.retry_after = spec.get("retry_after")
        times = spec.get("times", 1)
        self.remaining = None if times in (None, -1) else int(times)
        self.body = spec.get("body")
        if self.body is not None and self.body not in BODY_KINDS:
            raise ValueError("body must be one of %s" % ", ".join(BODY_KINDS))
        self.drop = spec.get("drop")
        if self.drop not in (None, "before", "after"):
            raise ValueError("drop must be 'before' or 'after'")
        self.delay = float(spec.get("delay") or 0)
        self.fields = spec.get("fields")
        self.fired = 0
        if self.status is None and self.body in ("json", "html"):
            self.status = 503
        if self.status is None and self.drop is None and self.body is None and not self.delay:
            raise ValueError("a fault rule needs status, body, drop or delay")

    def to_json(self):
        return dict(self.spec, remaining=self.remaining, fired=self.fired)

    def answers_without_work(self):
        """True when the fault answers instead of the real handler."""
        if self.drop == "before":
            return True
        if self.drop == "after":
            return False
        return self.status is not None and self.status != 200 and self.body != "missing_fields"

    def error_response(self, service):
        code = int(self.status)
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        kind = self.body or "json"
        if kind == "html":
            return Response(code, HTML_PAGE % {"code": code, "reason": REASONS.get(code, "Error")}, headers,
                            "text/html; charset=UTF-8")
        if kind == "malformed":
            return Response(code, '{"error": {"code": %d, "message": "trunc' % code, headers)
        reason, msg = JSON_MESSAGES.get(code, (None, REASONS.get(code, "Error")))
        if self.spec.get("reason"):
            reason = self.spec["reason"]
        if self.spec.get("message"):
            msg = self.spec["message"]
        if service == "token":
            return Response(code, json.dumps({"error": "internal_failure" if code >= 500 else "invalid_request",
                                              "error_description": msg}), headers)
        err = GoogleError(code, msg, reason, status=service != "gcs", headers=headers)
        r = err.response()
        return r

    def mangle(self, resp):
        """Post-process a real response (200 malformed / missing_fields)."""
        if self.status is not None and self.body in ("malformed", "missing_fields"):
            resp.status = int(self.status)
        if self.retry_after is not None:
            resp.headers["Retry-After"] = str(self.retry_after)
        if self.body == "malformed":
            text = resp.body[: max(1, len(resp.body) // 2)]
            resp.body = text if text.strip() else b'{"kind": '
            resp.headers["Content-Type"] = "application/json; charset=UTF-8"
        elif self.body == "missing_fields":
            try:
                obj = json.loads(resp.body)
            except ValueError:
                return resp
            if isinstance(obj, dict):
                drop = self.fields or DEFAULT_MISSING
                for k in drop:
                    obj.pop(k, None)
                resp.body = json.dumps(obj).encode()
        return resp


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

    def match(self, method, target):
        with self.lock:
            for r in self.rules:
                if r.remaining is not None and r.remaining <= 0:
                    continue
                if r.method not in ("*", method):
                    continue
                if not r.path.search(target):
                    continue
                if r.remaining is not None:
                    r.remaining -= 1
                r.fired += 1
                self.fired += 1
                return r
        return None

    def to_json(self):
        with self.lock:
            return [r.to_json() for r in self.rules]
