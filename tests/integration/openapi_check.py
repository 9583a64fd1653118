"""Holds every answer under /api/v1 to the OpenAPI document the daemon itself serves.

Daemon.http() hands each answer here: the status must be one the matched operation documents, the
content type one that status documents, and a JSON body must validate against the documented schema
(OpenAPI 3.0's dialect of JSON Schema turned into draft 4: `nullable`, `readOnly`, `writeOnly`,
`$ref` into components). A mismatch raises AssertionError naming the method, the path, the status and
the JSON pointer of the failing part. MAYAFLOW_OPENAPI_CHECK=0 switches the check off;
MAYAFLOW_OPENAPI_CHECK=source checks against the parts in web/openapi/ as they are now, merged as the
daemon merges them, instead of the document the binary serves (to try a change of the document
without building).

A request that matches no operation must get a problem (RFC 7807) with 404 (no such path), 405 (no
such method there), 401 (no credentials) or 400 (a path the router cannot read). A few answers can
come from any operation, as the document's description says, and are not repeated in every one: 400
from the router (a path or query that is not UTF-8 once decoded), 413 (a body over the limit) and,
on an operation that needs credentials, 429 (too many failed sign-ins); they must still be problems.
"""

import hashlib
import json
import os
import re
import urllib.parse
import urllib.request

import jsonschema

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ANY_OPERATION = {"400", "413"}
_ANY_SECURED_OPERATION = {"429"}
_UNROUTED = {"400", "401", "404", "405", "413", "429"}
_compiled = {}  # sha256 of the document's text -> _Document


def enabled():
    return os.environ.get("MAYAFLOW_OPENAPI_CHECK", "1") not in ("0", "off", "false", "no")


def document_for(port, cache_owner, auth=None):
    """The compiled document of the daemon on `port`, fetched once per daemon (kept on cache_owner,
    which forgets it when the port changes) and compiled once per distinct text. The document needs a
    signed-in user: `auth` is the Authorization value to fetch it with (default: cache_owner's
    auth_header(), a Daemon's admin)."""
    cached = getattr(cache_owner, "_openapi_document", None)
    if cached and cached[0] == port:
        return cached[1]
    if os.environ.get("MAYAFLOW_OPENAPI_CHECK") == "source":
        document = source_document()
    else:
        request = urllib.request.Request("http://127.0.0.1:%d/api/v1/openapi.json" % port)
        try:  # only health is open without credentials; a daemon started with API auth off has none
            request.add_header("Authorization", auth or cache_owner.auth_header())
        except (AttributeError, OSError):
            pass
        with urllib.request.urlopen(request, timeout=30) as answer:
            document = _compile(answer.read())
    cache_owner._openapi_document = (port, document)
    return document


def source_document():
    """The document as web/openapi/*.yaml say it now, merged as the daemon merges them (the binary
    embeds those same parts)."""
    return _compile(json.dumps(_merged_source_parts(), sort_keys=True).encode())


def _compile(text):
    """The compiled document of this text, compiled once per distinct text."""
    key = hashlib.sha256(text).hexdigest()
    if key not in _compiled:
        _compiled[key] = _Document(json.loads(text))
    return _compiled[key]


def check(document, method, path, status, content_type, body):
    """Raises AssertionError when the answer is not one the document describes."""
    document.check(method.upper(), path, str(status), content_type, body)


def _merged_source_parts():
    """web/openapi/*.yaml merged as web/openapi_document.cpp merges them: openapi.yaml is the base,
    each other part adds its paths (method by method), components (name by name) and tags."""
    import datetime
    import glob
    import yaml

    def plain(node):  # YAML 1.1's dates and times as the text they were
        if isinstance(node, dict):
            return {str(k): plain(v) for k, v in node.items()}
        if isinstance(node, list):
            return [plain(v) for v in node]
        if isinstance(node, (datetime.date, datetime.datetime)):
            return node.isoformat()
        return node
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web", "openapi")
    with open(os.path.join(folder, "openapi.yaml")) as f:
        merged = plain(yaml.safe_load(f))
    for path in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
        if os.path.basename(path) == "openapi.yaml":
            continue
        with open(path) as f:
            part = plain(yaml.safe_load(f))
        for template, item in part.get("paths", {}).items():
            merged.setdefault("paths", {}).setdefault(template, {}).update(item)
        for kind, named in part.get("components", {}).items():
            merged.setdefault("components", {}).setdefault(kind, {}).update(named)
        merged.setdefault("tags", []).extend(part.get("tags", []))
    return merged


# --- OpenAPI 3.0 schemas as JSON Schema draft 4 ---------------------------------------------------

def _to_json_schema(node):
    """A copy of an OpenAPI 3.0 schema in draft 4's terms, for a response (writeOnly properties
    must be absent, and are not required)."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:  # OpenAPI 3.0 ignores whatever stands beside a $ref
        return {"$ref": node["$ref"].replace("#/components/schemas/", "#/$defs/")}
    out = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: _to_json_schema(sub) for name, sub in value.items()}
        elif key in ("example", "examples", "discriminator", "xml", "externalDocs", "deprecated",
                     "readOnly", "writeOnly", "nullable") or key.startswith("x-"):
            continue
        else:
            out[key] = _to_json_schema(value)
    properties = node.get("properties", {})
    write_only = [name for name, sub in properties.items() if isinstance(sub, dict) and sub.get("writeOnly")]
    for name in write_only:
        out["properties"][name] = {"not": {}, "description": "writeOnly: never in an answer"}
    if "required" in out:
        out["required"] = [name for name in out["required"] if name not in write_only]
        if not out["required"]:
            del out["required"]
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_date_time(value):
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


@_FORMATS.checks("date")
def _is_date(value):
    return not isinstance(value, str) or bool(_DATE.match(value))


def _pointer(parts):
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts) if parts else ""


# --- the document ---------------------------------------------------------------------------------

class _Document:
    def __init__(self, spec):
        self.spec = spec
        components = spec.get("components", {})
        self.defs = {name: _to_json_schema(schema) for name, schema in components.get("schemas", {}).items()}
        self.global_security = spec.get("security", [])
        self.validators = {}  # id of the OpenAPI schema -> a draft 4 validator
        self.error_validator = self._validator(components["schemas"]["Error"])
        self.routes = []  # (segments, path template, {method: operation})
        for template, item in spec["paths"].items():
            operations = {m.upper(): op for m, op in item.items() if m in _METHODS}
            self.routes.append((template.strip("/").split("/"), template, operations))

    def _validator(self, schema):
        key = id(schema)
        if key not in self.validators:
            converted = _to_json_schema(schema)
            root = dict(converted) if "$ref" not in converted else {"allOf": [converted]}
            root["$defs"] = self.defs
            self.validators[key] = (schema, jsonschema.Draft4Validator(root, format_checker=_FORMATS))
        return self.validators[key][1]

    def _resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            target = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def match(self, path):
        """(template, operations) of the path, literal segments winning over templated ones."""
        segments = urllib.parse.urlsplit(path).path[len("/api/v1/"):].split("/")
        best = None
        for pattern, template, operations in self.routes:
            if len(pattern) != len(segments):
                continue
            score = []
            for want, got in zip(pattern, segments):
                if want.startswith("{") and want.endswith("}"):
                    if not got:
                        break
                    score.append(0)
                elif want == got:
                    score.append(1)
                else:
                    break
            else:
                if best is None or score > best[0]:
                    best = (score, template, operations)
        return (best[1], best[2]) if best else (None, {})

    def check(self, method, path, status, content_type, body):
        where = "%s %s answered %s" % (method, path, status)
        template, operations = self.match(path)
        operation = operations.get(method) or (operations.get("GET") if method == "HEAD" else None)
        media = (content_type or "").split(";")[0].strip().lower()
        if operation is None:
            if status not in _UNROUTED:
                raise AssertionError("%s: the document has no operation %s %s, so only %s may answer"
                                     % (where, method, template or path, "/".join(sorted(_UNROUTED))))
            self._check_problem(where, method, media, body)
            return
        responses = operation.get("responses", {})
        response = responses.get(status) or responses.get(status[0] + "XX")
        if response is None:
            secured = operation.get("security", self.global_security) != []
            if status in _ANY_OPERATION or (status in _ANY_SECURED_OPERATION and secured):
                self._check_problem(where, method, media, body)
                return
            response = responses.get("default")
        if response is None:
            raise AssertionError("%s: %s %s documents only %s" % (where, method, template, ", ".join(sorted(responses))))
        response = self._resolve(response)
        content = response.get("content", {})
        if method == "HEAD":
            return
        if not content:
            if body.strip():
                raise AssertionError("%s: %s %s documents no body for %s, but one came (%s): %.200s"
                                     % (where, method, template, status, media, body))
            return
        if media not in content:
            raise AssertionError("%s: content type %r is not among those documented for %s: %s"
                                 % (where, content_type, status, ", ".join(sorted(content))))
        if not (media == "application/json" or media.endswith("+json")):
            return
        try:
            value = json.loads(body)
        except ValueError as error:
            raise AssertionError("%s: the body is not JSON (%s): %.200s" % (where, error, body)) from None
        schema = self._resolve(content[media].get("schema"))
        if schema is None:
            return
        self._validate(where + " (%s %s)" % (method, template), self._validator(schema), value)

    def _check_problem(self, where, method, media, body):
        if method == "HEAD":
            return
        if media != "application/problem+json":
            raise AssertionError("%s: an error answer must be application/problem+json, not %r" % (where, media))
        try:
            value = json.loads(body)
        except ValueError as error:
            raise AssertionError("%s: the problem is not JSON (%s): %.200s" % (where, error, body)) from None
        self._validate(where, self.error_validator, value)

    @staticmethod
    def _validate(where, validator, value):
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            shown = json.dumps(error.instance)
            raise AssertionError("%s: the body at %r does not match the document: %s (schema path %s; value %.300s)"
                                 % (where, _pointer(list(error.absolute_path)), error.message.splitlines()[0][:300],
                                    _pointer(list(error.absolute_schema_path)), shown))
