"""BigQuery types: canonical names, parsing of input values, storage form in SQLite, f/v output encoding.

Storage forms (SQLite): STRING text; INTEGER int; FLOAT/NUMERIC/BIGNUMERIC real; BOOLEAN 0/1;
DATE 'YYYY-MM-DD'; TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC (fraction trimmed, omitted when 0);
DATETIME 'YYYY-MM-DD HH:MM:SS[.ffffff]'; TIME 'HH:MM:SS[.ffffff]'; BYTES blob; JSON text;
RECORD / REPEATED: JSON text holding the nested values in the same forms.
"""
import base64
import datetime
import json
import math
import re

CANON = {"STRING": "STRING", "BYTES": "BYTES", "INTEGER": "INTEGER", "INT64": "INTEGER", "FLOAT": "FLOAT",
         "FLOAT64": "FLOAT", "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN", "TIMESTAMP": "TIMESTAMP", "DATE": "DATE",
         "TIME": "TIME", "DATETIME": "DATETIME", "GEOGRAPHY": "GEOGRAPHY", "NUMERIC": "NUMERIC",
         "BIGNUMERIC": "BIGNUMERIC", "DECIMAL": "NUMERIC", "BIGDECIMAL": "BIGNUMERIC", "JSON": "JSON",
         "RECORD": "RECORD", "STRUCT": "RECORD", "RANGE": "RANGE"}
DECLTYPE = {"STRING": "BQ_STRING_TEXT", "BYTES": "BQ_BYTES_BLOB", "INTEGER": "BQ_INT64", "FLOAT": "BQ_FLOAT_REAL",
            "BOOLEAN": "BQ_BOOL_INT", "TIMESTAMP": "BQ_TIMESTAMP_TEXT", "DATE": "BQ_DATE_TEXT",
            "TIME": "BQ_TIME_TEXT", "DATETIME": "BQ_DATETIME_TEXT", "GEOGRAPHY": "BQ_GEOGRAPHY_TEXT",
            "NUMERIC": "BQ_NUMERIC_REAL", "BIGNUMERIC": "BQ_BIGNUMERIC_REAL", "JSON": "BQ_JSON_TEXT",
            "RECORD": "BQ_NESTED_TEXT", "REPEATED": "BQ_NESTED_TEXT"}


class BadValue(ValueError):
    pass


def normalize_schema(fields, path=""):
    """Validate + canonicalize a TableSchema.fields list. Raises BadValue with BigQuery-like messages."""
    out, seen = [], set()
    if not isinstance(fields, list):
        raise BadValue("Invalid schema: fields must be a list")
    for f in fields:
        name = f.get("name")
        if not name or not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$", name):
            raise BadValue("Invalid field name \"%s\". Fields must contain only letters, numbers, and underscores, "
                           "start with a letter or underscore, and be at most 300 characters long." % (name or ""))
        if name.lower() in seen:
            raise BadValue("Field %s already exists in schema" % name)
        seen.add(name.lower())
        t = CANON.get((f.get("type") or "").upper())
        if t is None:
            raise BadValue("Invalid value for type: %s is not a valid value" % f.get("type"))
        mode = (f.get("mode") or "NULLABLE").upper()
        if mode not in ("NULLABLE", "REQUIRED", "REPEATED"):
            raise BadValue("Invalid value for mode: %s is not a valid value" % f.get("mode"))
        nf = {"name": name, "type": t, "mode": mode}
        if f.get("description"):
            nf["description"] = f["description"]
        if t == "RECORD":
            if not f.get("fields"):
                raise BadValue("Field %s is type RECORD but has no schema" % (path + name))
            nf["fields"] = normalize_schema(f["fields"], path + name + ".")
        elif f.get("fields"):
            raise BadValue("Field %s is type %s but has a schema" % (path + name, t))
        out.append(nf)
    return out


def schema_out(fields):
    return [dict(f, fields=schema_out(f["fields"])) if "fields" in f else dict(f) for f in fields]


# ---- parsing ---------------------------------------------------------------------------------
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TS_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ Tt](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
                    r"\s*(Z|z|UTC|[+-]\d{1,2}(?::?\d{2})?)?$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _frac(us):
    return ("." + ("%06d" % us).rstrip("0")) if us else ""


def parse_date(s):
    m = _DATE_RE.match(s.strip())
    if not m:
        raise BadValue("Invalid date: '%s'" % s)
    try:
        d = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise BadValue("Invalid date: '%s'" % s)
    return d.isoformat()


def parse_timestamp_dt(s):
    """String → aware datetime (UTC)."""
    m = _TS_RE.match(s.strip())
    if not m:
        raise BadValue("Invalid timestamp: '%s'" % s)
    y, mo, d, hh, mi, ss, frac, tz = m.groups()
    try:
        us = int((frac or "0")[:6].ljust(6, "0"))
        dt = datetime.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), us)
    except ValueError:
        raise BadValue("Invalid timestamp: '%s'" % s)
    off = 0
    if tz and tz.upper() not in ("Z", "UTC"):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        h, mnt = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
        off = sign * (int(h) * 60 + int(mnt))
    return (dt - datetime.timedelta(minutes=off)).replace(tzinfo=datetime.timezone.utc)


def ts_store(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S") + _frac(dt.microsecond)


def ts_from_micros(us):
    return ts_store(EPOCH + datetime.timedelta(microseconds=us))


def ts_to_micros(stored):
    dt = parse_timestamp_dt(stored)
    return (dt - EPOCH) // datetime.timedelta(microseconds=1)


def parse_datetime(s):
    m = _TS_RE.match(s.strip())
    if not m or m.group(8):
        raise BadValue("Invalid datetime string \"%s\"" % s)
    dt = parse_timestamp_dt(s).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%d %H:%M:%S") + _frac(dt.microsecond)


def parse_time(s):
    m = _TIME_RE.match(s.strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3) or 0) > 59:
        raise BadValue("Invalid time string \"%s\"" % s)
    us = int((m.group(4) or "0")[:6].ljust(6, "0"))
    return "%02d:%02d:%02d" % (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) + _frac(us)


_INT_TEXT = re.compile(r"^[+-]?\d+$")


def scalar_from_text(t, s):
    """CSV text (non-null) → storage value for type t. Raises BadValue."""
    if t == "STRING" or t == "GEOGRAPHY":
        return s
    if t == "INTEGER":
        st = s.strip()
        if _INT_TEXT.match(st):
            v = int(st)
            if -2**63 <= v < 2**63:
                return v
        raise BadValue("Could not parse '%s' as INT64" % s)
    if t in ("FLOAT", "NUMERIC", "BIGNUMERIC"):
        try:
            v = float(s.strip())
        except ValueError:
            raise BadValue("Could not parse '%s' as %s" % (s, {"FLOAT": "DOUBLE"}.get(t, t)))
        if t != "FLOAT" and not math.isfinite(v):
            raise BadValue("Could not parse '%s' as %s" % (s, t))
        return v
    if t == "BOOLEAN":
        low = s.strip().lower()
        if low in ("true", "t", "yes", "y", "1"):
            return 1
        if low in ("false", "f", "no", "n", "0"):
            return 0
        raise BadValue("Could not parse '%s' as BOOL" % s)
    if t == "DATE":
        try:
            return parse_date(s)
        except BadValue:
            raise BadValue("Could not parse '%s' as DATE" % s)
    if t == "TIMESTAMP":
        try:
            return ts_store(parse_timestamp_dt(s))
        except BadValue:
            try:  # epoch seconds are accepted for TIMESTAMP
                return ts_from_micros(int(round(float(s) * 1e6)))
            except (ValueError, OverflowError):
                raise BadValue("Could not parse '%s' as TIMESTAMP" % s)
    if t == "DATETIME":
        try:
            return parse_datetime(s)
        except BadValue:
            raise BadValue("Could not parse '%s' as DATETIME" % s)
    if t == "TIME":
        try:
            return parse_time(s)
        except BadValue:
            raise BadValue("Could not parse '%s' as TIME" % s)
    if t == "BYTES":
        try:
            return base64.b64decode(s, validate=True)
        except Exception:
            raise BadValue("Could not parse '%s' as BYTES" % s)
    if t == "JSON":
        try:
            json.loads(s)
        except ValueError:
            raise BadValue("Could not parse '%s' as JSON" % s)
        return s
    raise BadValue("Unsupported type %s" % t)


def scalar_from_json(t, v):
    """NDJSON value (non-null) → storage value. Raises BadValue."""
    if t == "JSON":
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (dict, list)):
        raise BadValue("Array specified for non-repeated field" if isinstance(v, list) else
                       "Cannot convert value to %s" % t)
    if t == "BOOLEAN":
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, str):
            return scalar_from_text(t, v)
        raise BadValue("Cannot convert value to boolean")
    if t == "INTEGER":
        if isinstance(v, bool):
            raise BadValue("Cannot convert value to integer (bad value)")
        if isinstance(v, int):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        if isinstance(v, str):
            return scalar_from_text(t, v)
        raise BadValue("Cannot convert value to integer (bad value)")
    if t in ("FLOAT", "NUMERIC", "BIGNUMERIC"):
        if isinstance(v, bool):
            raise BadValue("Cannot convert value to floating point (bad value)")
        if isinstance(v, (int, float)):
            return float(v)
        return scalar_from_text(t, str(v))
    if t == "TIMESTAMP" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return ts_from_micros(int(round(v * 1e6)))
    if t == "STRING" and not isinstance(v, str):
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(v)
    return scalar_from_text(t, v if isinstance(v, str) else json.dumps(v))


def nested_from_json(field, v, path):
    """Validate/convert a NDJSON value for a field (any mode) into the JSON-able stored form."""
    name = path + field["name"]
    if field["mode"] == "REPEATED":
        if v is None:
            return []
        if not isinstance(v, list):
            raise BadValue("Repeated field must be imported as a JSON array. Field: %s." % name)
        return [_one_from_json(field, x, name) for x in v if x is not None]
    if v is None:
        if field["mode"] == "REQUIRED":
            raise BadValue("Missing required field: %s." % name)
        return None
    return _one_from_json(field, v, name)


def _one_from_json(field, v, name):
    if field["type"] == "RECORD":
        if not isinstance(v, dict):
            raise BadValue("Cannot convert value to a record. Field: %s." % name)
        known = {f["name"].lower(): f for f in field["fields"]}
        for k in v:
            if k.lower() not in known:
                raise BadValue("No such field: %s." % (name + "." + k))
        lower = {k.lower(): val for k, val in v.items()}
        return {f["name"]: nested_from_json(f, lower.get(f["name"].lower()), name + ".") for f in field["fields"]}
    try:
        val = scalar_from_json(field["type"], v)
    except BadValue as e:
        raise BadValue("%s Field: %s; Value: %s" % (e, name, v if not isinstance(v, str) else v))
    if isinstance(val, bytes):
        return base64.b64encode(val).decode()
    return val


# ---- output encoding (f/v) ---------------------------------------------------------------------
def java_double(x):
    """Java Double.toString formatting (what BigQuery uses for FLOAT and float TIMESTAMP cells)."""
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    a = abs(x)
    if 1e-3 <= a < 1e7:
        r = repr(float(x))
        if "e" in r or "E" in r:
            r = "%.17f" % x
            r = r.rstrip("0")
        if "." not in r:
            r += ".0"
        if r.endswith("."):
            r += "0"
        return r
    r = "%r" % float(a)
    mant, _, exp = ("%.17e" % a).partition("e")
    # shortest mantissa digits
    digits = repr(a)
    if "e" in digits:
        m, _, e = digits.partition("e")
        e = int(e)
    else:
        m, e = digits, 0
        if "." in m:
            ip, fp = m.split(".")
        else:
            ip, fp = m, ""
        if ip != "0":
            e = len(ip) - 1
            m = ip[0] + "." + (ip[1:] + fp)
        else:
            nz = len(fp) - len(fp.lstrip("0"))
            e = -(nz + 1)
            m = fp[nz] + "." + fp[nz + 1:]
    if "." not in m:
        m += ".0"
    ip, fp = m.split(".")
    fp = fp.rstrip("0") or "0"
    return ("-" if x < 0 else "") + ip + "." + fp + "E" + str(int(e))


def numeric_str(x):
    if isinstance(x, int):
        return str(x)
    r = "%.9f" % x
    r = r.rstrip("0").rstrip(".")
    return r if r not in ("-0", "") else "0"


def encode_scalar(t, v, int64_ts):
    if v is None:
        return None
    if t == "INTEGER":
        return str(int(v)) if not isinstance(v, str) else v
    if t == "FLOAT":
        return java_double(float(v))
    if t in ("NUMERIC", "BIGNUMERIC"):
        return numeric_str(v)
    if t == "BOOLEAN":
        if isinstance(v, str):
            return "true" if v.lower() in ("true", "1") else "false"
        return "true" if v else "false"
    if t == "TIMESTAMP":
        us = ts_to_micros(v) if isinstance(v, str) else int(v)
        return str(us) if int64_ts else java_double(us / 1e6)
    if t == "DATETIME":
        return str(v).replace(" ", "T")
    if t == "BYTES":
        if isinstance(v, (bytes, bytearray)):
            return base64.b64encode(bytes(v)).decode()
        return str(v)
    if t in ("DATE", "TIME", "STRING", "GEOGRAPHY", "JSON"):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return java_double(v)
        return str(v)
    return str(v)


def encode_cell(field, v, int64_ts):
    """Stored value (JSON text for nested) → the {"v": ...} cell payload (without the "v" wrapper)."""
    if field["mode"] == "REPEATED":
        items = v
        if isinstance(v, (str, bytes)):
            items = json.loads(v)
        items = items or []
        one = dict(field, mode="NULLABLE")
        return [{"v": encode_cell(one, x, int64_ts)} for x in items]
    if field["type"] == "RECORD":
        if v is None:
            return None
        obj = json.loads(v) if isinstance(v, (str, bytes)) else v
        lower = {k.lower(): x for k, x in obj.items()}
        return {"f": [{"v": encode_cell(sf, lower.get(sf["name"].lower()), int64_ts)} for sf in field["fields"]]}
    if field["type"] == "TIMESTAMP" and isinstance(v, str):
        v = ts_store(parse_timestamp_dt(v))
    return encode_scalar(field["type"], v, int64_ts)
