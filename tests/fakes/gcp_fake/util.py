"""Shared helpers: Google error shapes, responses, time formatting."""
import datetime
import json
import time

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 501: "NOT_IMPLEMENTED", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
                504: "DEADLINE_EXCEEDED"}
DEFAULT_REASONS = {400: "invalid", 401: "authError", 403: "accessDenied", 404: "notFound", 409: "duplicate",
                   412: "conditionNotMet", 429: "rateLimitExceeded", 500: "backendError",
                   502: "backendError", 503: "backendError", 504: "backendError"}


class Response:
    def __init__(self, status=200, body=b"", headers=None, content_type="application/json; charset=UTF-8"):
        self.status = status
        self.headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.body = body
        if content_type and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = content_type
        self.json = None  # the dict before encoding, if any (for fault "missing_fields")


def json_response(obj, status=200, headers=None):
    r = Response(status, obj, headers)
    r.json = obj
    return r


class GoogleError(Exception):
    """An error answered in Google's JSON API error shape."""

    def __init__(self, code, message, reason=None, status=True, location=None, location_type=None,
                 headers=None, extra_errors=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or DEFAULT_REASONS.get(code, "backendError")
        self.status = status  # True: include "status" (BigQuery/One Platform); False: GCS style
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}
        self.extra_errors = extra_errors

    def body(self):
        err = {"message": self.message, "domain": "global", "reason": self.reason}
        if self.location_type:
            err["locationType"] = self.location_type
        if self.location:
            err["location"] = self.location
        out = {"code": self.code, "message": self.message, "errors": [err] + (self.extra_errors or [])}
        if self.status:
            out["status"] = STATUS_NAMES.get(self.code, "UNKNOWN")
        return {"error": out}

    def response(self):
        return json_response(self.body(), self.code, self.headers)


def now_ms():
    return int(time.time() * 1000)


def rfc3339(ts):
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)
