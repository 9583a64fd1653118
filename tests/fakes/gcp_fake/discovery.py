"""Request validation against Google's discovery documents (proto3-JSON rules as One Platform applies them)."""
import json
import math
import os
import re

from .util import GoogleError

_INT_RE = re.compile(r"^-?\d+$")
_UINT_RE = re.compile(r"^\d+$")
LIMITS = {"int32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1), "int64": (-2**63, 2**63 - 1),
          "uint64": (0, 2**64 - 1)}
PROTO_TYPE = {("string", None): "TYPE_STRING", ("string", "int64"): "TYPE_INT64", ("string", "uint64"): "TYPE_UINT64",
              ("integer", "int32"): "TYPE_INT32", ("integer", "uint32"): "TYPE_UINT32",
              ("number", "double"): "TYPE_DOUBLE", ("number", "float"): "TYPE_FLOAT", ("boolean", None): "TYPE_BOOL",
              ("string", "byte"): "TYPE_BYTES"}
GLOBAL_PARAMS = {"$.xgafv", "access_token", "alt", "callback", "fields", "key", "oauth_token", "prettyPrint",
                 "quotaUser", "upload_protocol", "uploadType", "userIp"}


def snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _invalid(msg):
    return GoogleError(400, msg, "invalid")


def _show(v):
    return json.dumps(v, ensure_ascii=False)


class Discovery:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.schemas = self.doc["schemas"]
        self.methods = {}
        self._collect(self.doc.get("resources", {}))

    def _collect(self, resources):
        for r in resources.values():
            for m in r.get("methods", {}).values():
                self.methods[m["id"]] = m
            self._collect(r.get("resources", {}))

    # -- bodies --------------------------------------------------------------
    def validate_body(self, schema_name, obj, root):
        """Raise GoogleError(400) for unknown names or wrong JSON types, like Google's JSON→proto parser."""
        if not isinstance(obj, dict):
            raise _invalid("Invalid JSON payload received. Expected an object at '%s'." % root if root else
                           "Invalid JSON payload received. Expected an object.")
        self._check_object(self.schemas[schema_name], obj, root)

    def _check_object(self, schema, obj, path):
        props = schema.get("properties", {})
        for key, val in obj.items():
            if key not in props:
                where = " at '%s'" % path if path else ""
                raise _invalid("Invalid JSON payload received. Unknown name %s%s: Cannot find field." % (_show(key), where))
            sub = path + "." + snake(key) if path else snake(key)
            self._check(props[key], val, sub)

    def _check(self, prop, val, path):
        if val is None:
            return
        if "$ref" in prop:
            schema = self.schemas[prop["$ref"]]
            if not isinstance(val, dict):
                raise _invalid("Invalid value at '%s' (type.googleapis.com/%s), %s" % (path, prop["$ref"], _show(val)))
            self._check_object(schema, val, path)
            return
        t, fmt = prop.get("type"), prop.get("format")
        if t == "any":
            return
        if t == "array":
            if not isinstance(val, list):
                raise _invalid("Invalid value at '%s' (%s), %s" % (path, PROTO_TYPE.get(
                    (prop["items"].get("type"), prop["items"].get("format")), "TYPE_MESSAGE"), _show(val)))
            for i, item in enumerate(val):
                if item is None:
                    raise _invalid("Invalid value at '%s[%d]', null is not allowed in a repeated field." % (path, i))
                self._check(prop["items"], item, "%s[%d]" % (path, i))
            return
        if t == "object":
            if not isinstance(val, dict):
                raise _invalid("Invalid value at '%s' (TYPE_MESSAGE), %s" % (path, _show(val)))
            if "additionalProperties" in prop:
                for k, v in val.items():
                    self._check(prop["additionalProperties"], v, "%s[%s]" % (path, _show(k)))
            elif "properties" in prop:
                self._check_object(prop, val, path)
            return
        ptype = PROTO_TYPE.get((t, fmt if t != "string" or fmt in ("int64", "uint64", "byte") else None), "TYPE_STRING")
        bad = _invalid("Invalid value at '%s' (%s), %s" % (path, ptype, _show(val)))
        if t == "boolean":
            if not isinstance(val, bool):
                raise bad
        elif t == "string" and fmt in ("int64", "uint64") or t == "integer":
            lo, hi = LIMITS.get(fmt or "int32", LIMITS["int64"])
            if isinstance(val, bool):
                raise bad
            if isinstance(val, float):
                if not val.is_integer():
                    raise bad
                val = int(val)
            elif isinstance(val, str):
                if not (_UINT_RE if fmt.startswith("u") else _INT_RE).match(val):
                    raise bad
                val = int(val)
            elif not isinstance(val, int):
                raise bad
            if not lo <= val <= hi:
                raise bad
        elif t == "number":
            if isinstance(val, bool):
                raise bad
            if isinstance(val, str):
                if val not in ("NaN", "Infinity", "-Infinity"):
                    try:
                        float(val)
                    except ValueError:
                        raise bad
            elif not isinstance(val, (int, float)):
                raise bad
        elif t == "string":
            if not isinstance(val, str):
                raise bad

    # -- query parameters ----------------------------------------------------
    def validate_query(self, method_id, query):
        m = self.methods[method_id]
        params = m.get("parameters", {})
        for name, values in query.items():
            if name in GLOBAL_PARAMS:
                continue
            spec = params.get(name)
            if spec is None or spec.get("location") != "query":
                raise _invalid("Invalid JSON payload received. Unknown name %s: Cannot bind query parameter. "
                               "Field %s could not be found in request message." % (_show(name), _show(name.split(".")[0])))
            if len(values) > 1 and not spec.get("repeated"):
                raise _invalid("Invalid JSON payload received. Repeated values for field %s." % _show(name))
            for v in values:
                self._check_query_value(spec, v, snake(name))
        return m

    def _check_query_value(self, spec, v, path):
        t, fmt = spec.get("type"), spec.get("format")
        ptype = PROTO_TYPE.get((t, fmt), "TYPE_STRING")
        bad = _invalid("Invalid value at '%s' (%s), %s" % (path, ptype, _show(v)))
        if t == "boolean" and v not in ("true", "false", "True", "False", "1", "0"):
            raise bad
        if t == "integer" or fmt in ("int64", "uint64"):
            if not (_UINT_RE if (fmt or "").startswith("u") else _INT_RE).match(v):
                raise bad
        if "enum" in spec and v not in spec["enum"]:
            raise bad


_cache = {}


def load(name):
    """name: 'bigquery' or 'storage'. Looks in $GCP_FAKE_CONTRACTS, then the repository's contracts/."""
    if name in _cache:
        return _cache[name]
    fname = {"bigquery": "bigquery-v2-discovery.json", "storage": "storage-v1-discovery.json"}[name]
    dirs = [os.environ.get("GCP_FAKE_CONTRACTS", ""),
            os.path.join(os.path.dirname(__file__), "..", "..", "..", "contracts")]
    for d in dirs:
        p = os.path.join(d, fname)
        if d and os.path.isfile(p):
            _cache[name] = Discovery(p)
            return _cache[name]
    raise FileNotFoundError("discovery document %s not found (set GCP_FAKE_CONTRACTS)" % fname)
