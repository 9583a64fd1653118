"""GoogleSQL functions implemented as SQLite user functions (registered as bq_<name>; SAFE variants bq_safe_<name>).

A UDF error is remembered in a thread-local so the job error carries BigQuery's message (SQLite hides it).
"""
import calendar
import datetime
import json
import math
import re
import threading

from . import bq_types
from .bq_types import BadValue

LAST_ERROR = threading.local()


class SqlError(Exception):
    pass


def _d(s):
    """DATE-ish text → date."""
    if s is None:
        return None
    if isinstance(s, (int, float)):
        raise SqlError("No matching signature for function DATE for argument types: INT64")
    s = str(s)
    if len(s) > 10:
        return bq_types.parse_timestamp_dt(s).date()
    return datetime.date.fromisoformat(bq_types.parse_date(s))


def _ts(s, tz=None):
    if s is None:
        return None
    dt = bq_types.parse_timestamp_dt(str(s))
    if tz and not re.search(r"(Z|UTC|[+-]\d{1,2}(:?\d{2})?)$", str(s).strip()):
        z = _zone(tz)
        naive = dt.replace(tzinfo=None)
        dt = naive.replace(tzinfo=z).astimezone(datetime.timezone.utc)
    return dt


def _zone(tz):
    if re.match(r"^[+-]\d{1,2}(:?\d{2})?$", tz):
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        h, m = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
        return datetime.timezone(sign * datetime.timedelta(hours=int(h), minutes=int(m)))
    if tz.upper() == "UTC":
        return datetime.timezone.utc
    try:
        import zoneinfo
        return zoneinfo.ZoneInfo(tz)
    except Exception:
        raise SqlError("Invalid time zone: %s" % tz)


def _tsout(dt):
    return bq_types.ts_store(dt.astimezone(datetime.timezone.utc))


def date(*a):
    if len(a) == 3:
        return datetime.date(int(a[0]), int(a[1]), int(a[2])).isoformat()
    if a[0] is None:
        return None
    if len(a) == 2 and a[1] is not None:
        return _ts(a[0]).astimezone(_zone(a[1])).date().isoformat()
    return _d(a[0]).isoformat()


def _week_start(d, weekday_name="SUNDAY"):
    names = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
    target = names.index(weekday_name)
    return d - datetime.timedelta(days=(d.weekday() - target) % 7)


def _trunc_date(d, part):
    part = part.upper().replace(" ", "")
    if part == "DAY":
        return d
    if part == "WEEK":
        return _week_start(d)
    m = re.match(r"^WEEK\((\w+)\)$", part)
    if m:
        return _week_start(d, m.group(1))
    if part == "ISOWEEK":
        return _week_start(d, "MONDAY")
    if part == "MONTH":
        return d.replace(day=1)
    if part == "QUARTER":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    if part == "YEAR":
        return d.replace(month=1, day=1)
    if part == "ISOYEAR":
        return datetime.date.fromisocalendar(d.isocalendar()[0], 1, 1)
    raise SqlError("A valid date part name is required but found %s" % part)


def date_trunc(d, part):
    if d is None:
        return None
    return _trunc_date(_d(d), part).isoformat()


def _add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    return d.replace(year=y, month=m + 1, day=min(d.day, calendar.monthrange(y, m + 1)[1]))


def _date_add(d, n, part):
    part = part.upper()
    n = int(n)
    if part == "DAY":
        return d + datetime.timedelta(days=n)
    if part == "WEEK":
        return d + datetime.timedelta(days=7 * n)
    if part == "MONTH":
        return _add_months(d, n)
    if part == "QUARTER":
        return _add_months(d, 3 * n)
    if part == "YEAR":
        return _add_months(d, 12 * n)
    raise SqlError("Unsupported date part %s in DATE_ADD" % part)


def date_add(d, n, part):
    if d is None or n is None:
        return None
    return _date_add(_d(d), n, part).isoformat()


def date_sub(d, n, part):
    if d is None or n is None:
        return None
    return _date_add(_d(d), -int(n), part).isoformat()


def date_diff(a, b, part):
    if a is None or b is None:
        return None
    a, b = _d(a), _d(b)
    part = part.upper()
    if part == "DAY":
        return (a - b).days
    if part.startswith("WEEK") or part == "ISOWEEK":
        p = "ISOWEEK" if part == "ISOWEEK" else part
        return (_trunc_date(a, p) - _trunc_date(b, p)).days // 7
    if part == "MONTH":
        return (a.year - b.year) * 12 + a.month - b.month
    if part == "QUARTER":
        return (a.year - b.year) * 4 + (a.month - 1) // 3 - (b.month - 1) // 3
    if part == "YEAR":
        return a.year - b.year
    raise SqlError("Unsupported date part %s in DATE_DIFF" % part)


def _fmt(fmt):
    return fmt.replace("%F", "%Y-%m-%d").replace("%T", "%H:%M:%S").replace("%E4Y", "%Y").replace("%Ez", "%z")


def format_date(fmt, d):
    if fmt is None or d is None:
        return None
    if re.search(r"%E[0-9*]|%Q|%O", fmt):
        raise SqlError("The BigQuery stand-in does not support format element in %r" % fmt)
    return _d(d).strftime(_fmt(fmt))


def parse_date(fmt, s):
    if fmt is None or s is None:
        return None
    try:
        return datetime.datetime.strptime(s, _fmt(fmt)).date().isoformat()
    except ValueError:
        raise SqlError("Failed to parse input string \"%s\"" % s)


def current_date(tz=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    if tz:
        now = now.astimezone(_zone(tz))
    return now.date().isoformat()


def current_timestamp():
    return _tsout(datetime.datetime.now(datetime.timezone.utc))


def extract(part, x):
    if x is None:
        return None
    part = part.upper()
    s = str(x)
    if part in ("HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND") or (part == "DATE" and len(s) > 10):
        dt = _ts(s) if len(s) > 10 else None
        if dt is None:
            if re.match(r"^\d{1,2}:\d{2}", s):  # TIME
                t = datetime.datetime.strptime(bq_types.parse_time(s).split(".")[0], "%H:%M:%S")
                dt = t
            else:
                raise SqlError("EXTRACT %s from DATE is not supported" % part)
        if part == "DATE":
            return dt.date().isoformat()
        return {"HOUR": dt.hour, "MINUTE": dt.minute, "SECOND": dt.second,
                "MILLISECOND": dt.microsecond // 1000, "MICROSECOND": dt.microsecond}[part]
    d = _d(s)
    if part == "YEAR":
        return d.year
    if part == "MONTH":
        return d.month
    if part == "DAY":
        return d.day
    if part == "DAYOFWEEK":
        return d.isoweekday() % 7 + 1
    if part == "DAYOFYEAR":
        return d.timetuple().tm_yday
    if part == "QUARTER":
        return (d.month - 1) // 3 + 1
    if part == "WEEK":  # weeks start on Sunday; days before the first Sunday are week 0
        jan1 = d.replace(month=1, day=1)
        first_sunday = jan1 + datetime.timedelta(days=(6 - jan1.weekday()) % 7)
        return 0 if d < first_sunday else (d - first_sunday).days // 7 + 1
    if part == "ISOWEEK":
        return d.isocalendar()[1]
    if part == "ISOYEAR":
        return d.isocalendar()[0]
    raise SqlError("A valid date part name is required but found %s" % part)


def timestamp(x, tz=None):
    if x is None:
        return None
    return _tsout(_ts(x, tz))


def timestamp_micros(n):
    return None if n is None else bq_types.ts_from_micros(int(n))


def timestamp_millis(n):
    return None if n is None else bq_types.ts_from_micros(int(n) * 1000)


def timestamp_seconds(n):
    return None if n is None else bq_types.ts_from_micros(int(n) * 1000000)


def unix_micros(t):
    return None if t is None else bq_types.ts_to_micros(str(t))


def unix_millis(t):
    return None if t is None else bq_types.ts_to_micros(str(t)) // 1000


def unix_seconds(t):
    return None if t is None else bq_types.ts_to_micros(str(t)) // 1000000


def unix_date(d):
    return None if d is None else (_d(d) - datetime.date(1970, 1, 1)).days


_UNIT_US = {"MICROSECOND": 1, "MILLISECOND": 1000, "SECOND": 10**6, "MINUTE": 60 * 10**6, "HOUR": 3600 * 10**6,
            "DAY": 86400 * 10**6}


def timestamp_add(t, n, part):
    if t is None or n is None:
        return None
    part = part.upper()
    if part not in _UNIT_US:
        raise SqlError("Unsupported date part %s in TIMESTAMP_ADD" % part)
    return bq_types.ts_from_micros(bq_types.ts_to_micros(str(t)) + int(n) * _UNIT_US[part])


def timestamp_sub(t, n, part):
    return timestamp_add(t, -int(n) if n is not None else None, part)


def timestamp_diff(a, b, part):
    if a is None or b is None:
        return None
    part = part.upper()
    if part not in _UNIT_US:
        raise SqlError("Unsupported date part %s in TIMESTAMP_DIFF" % part)
    diff = bq_types.ts_to_micros(str(a)) - bq_types.ts_to_micros(str(b))
    return int(diff / _UNIT_US[part])


def timestamp_trunc(t, part, tz=None):
    if t is None:
        return None
    dt = _ts(t)
    z = _zone(tz) if tz else datetime.timezone.utc
    local = dt.astimezone(z)
    part = part.upper()
    if part in ("MICROSECOND",):
        out = local
    elif part == "MILLISECOND":
        out = local.replace(microsecond=local.microsecond // 1000 * 1000)
    elif part == "SECOND":
        out = local.replace(microsecond=0)
    elif part == "MINUTE":
        out = local.replace(second=0, microsecond=0)
    elif part == "HOUR":
        out = local.replace(minute=0, second=0, microsecond=0)
    else:
        d = _trunc_date(local.date(), part)
        out = datetime.datetime(d.year, d.month, d.day)
        out = out.replace(tzinfo=z) if not hasattr(z, "key") else out.replace(tzinfo=z)
    return _tsout(out)


def format_timestamp(fmt, t, tz=None):
    if fmt is None or t is None:
        return None
    dt = _ts(t).astimezone(_zone(tz) if tz else datetime.timezone.utc)
    f = _fmt(fmt).replace("%Z", "UTC" if not tz else tz)
    return dt.strftime(f)


def parse_timestamp(fmt, s, tz=None):
    if fmt is None or s is None:
        return None
    try:
        dt = datetime.datetime.strptime(s, _fmt(fmt))
    except ValueError:
        raise SqlError("Failed to parse input string \"%s\"" % s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_zone(tz) if tz else datetime.timezone.utc)
    return _tsout(dt)


def datetime_(*a):
    if a[0] is None:
        return None
    if len(a) == 2 and len(str(a[1])) <= 8 and ":" in str(a[1]):
        return bq_types.parse_datetime(str(a[0]) + " " + str(a[1]))
    if len(a) == 2:
        return _ts(a[0]).astimezone(_zone(a[1])).strftime("%Y-%m-%d %H:%M:%S")
    s = str(a[0])
    if len(s) == 10:
        return s + " 00:00:00"
    return bq_types.parse_datetime(s.replace("+00", "").replace("Z", ""))


def _num_str(v):
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v)


def cast(x, t):
    if x is None:
        return None
    t = t.upper()
    try:
        if t in ("INT64", "INTEGER"):
            if isinstance(x, float):
                if not math.isfinite(x):
                    raise SqlError("Illegal conversion of non-finite floating point number to an integer: %s" % x)
                return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)
            if isinstance(x, int):
                return x
            s = str(x).strip()
            if re.match(r"^[+-]?\d+$", s):
                return int(s)
            if re.match(r"^[+-]?0[xX][0-9a-fA-F]+$", s):
                return int(s, 16)
            raise SqlError("Bad int64 value: %s" % x)
        if t in ("FLOAT64", "FLOAT"):
            if isinstance(x, (int, float)):
                return float(x)
            try:
                return float(str(x).strip())
            except ValueError:
                raise SqlError("Bad double value: %s" % x)
        if t in ("NUMERIC", "BIGNUMERIC", "DECIMAL", "BIGDECIMAL"):
            try:
                return float(x) if isinstance(x, (int, float)) else float(str(x).strip())
            except ValueError:
                raise SqlError("Invalid NUMERIC value: %s" % x)
        if t == "STRING":
            if isinstance(x, bytes):
                return x.decode("utf-8", "replace")
            return _num_str(x)
        if t in ("BOOL", "BOOLEAN"):
            if isinstance(x, (int, float)):
                return 1 if x else 0
            s = str(x).strip().lower()
            if s in ("true", "false"):
                return 1 if s == "true" else 0
            raise SqlError("Bad bool value: %s" % x)
        if t == "DATE":
            try:
                return _d(x).isoformat()
            except (BadValue, ValueError):
                raise SqlError("Invalid date: '%s'" % x)
        if t == "TIMESTAMP":
            try:
                return _tsout(_ts(x))
            except BadValue:
                raise SqlError("Invalid timestamp: '%s'" % x)
        if t == "DATETIME":
            try:
                return datetime_(x)
            except BadValue:
                raise SqlError("Invalid datetime string \"%s\"" % x)
        if t == "TIME":
            return bq_types.parse_time(str(x)[-15:] if len(str(x)) > 15 else str(x))
    except BadValue as e:
        raise SqlError(str(e))
    raise SqlError("The BigQuery stand-in does not support CAST to %s" % t)


def concat(*a):
    if any(v is None for v in a):
        return None
    return "".join(_num_str(v) if not isinstance(v, str) else v for v in a)


def safe_divide(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def nz(b, a=None):
    if b == 0:
        raise SqlError("division by zero: %s / 0" % (_num_str(a) if a is not None else "x"))
    return b


def div(a, b):
    if a is None or b is None:
        return None
    if b == 0:
        raise SqlError("division by zero: %s / 0" % a)
    q = abs(int(a)) // abs(int(b))
    return q if (a >= 0) == (b > 0) else -q


def mod(a, b):
    if a is None or b is None:
        return None
    if b == 0:
        raise SqlError("division by zero: %s / 0" % a)
    return int(math.fmod(a, b)) if isinstance(a, int) and isinstance(b, int) else math.fmod(a, b)


def starts_with(s, p):
    return None if s is None or p is None else int(str(s).startswith(p))


def ends_with(s, p):
    return None if s is None or p is None else int(str(s).endswith(p))


def regexp_contains(s, p):
    return None if s is None or p is None else int(re.search(p, str(s)) is not None)


def regexp_extract(s, p):
    if s is None or p is None:
        return None
    m = re.search(p, str(s))
    if not m:
        return None
    return m.group(1) if m.groups() else m.group(0)


def regexp_replace(s, p, r):
    if s is None or p is None or r is None:
        return None
    return re.sub(p, re.sub(r"\\(\d)", r"\\g<\1>", r), str(s))


def json_value(j, path="$"):
    if j is None:
        return None
    try:
        v = json.loads(j)
    except ValueError:
        raise SqlError("JSON_VALUE: invalid JSON")
    for part in re.findall(r"\.(\w+)|\[(\d+)\]", path):
        if part[0]:
            v = v.get(part[0]) if isinstance(v, dict) else None
        else:
            v = v[int(part[1])] if isinstance(v, list) and int(part[1]) < len(v) else None
        if v is None:
            return None
    if isinstance(v, (dict, list)):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return _num_str(v)


def partition_time(pid):
    """__pid of an ingestion-time partitioned table → _PARTITIONTIME."""
    if pid is None or not pid[:1].isdigit():
        return None
    y, m, d, h = pid[0:4], pid[4:6] or "01", pid[6:8] or "01", pid[8:10] or "00"
    return "%s-%s-%s %s:00:00" % (y, m, d, h)


FUNCS = {
    "date": (date, -1), "date_trunc": (date_trunc, 2), "date_add": (date_add, 3), "date_sub": (date_sub, 3),
    "date_diff": (date_diff, 3), "format_date": (format_date, 2), "parse_date": (parse_date, 2),
    "current_date": (current_date, -1), "current_timestamp": (current_timestamp, 0), "extract": (extract, 2),
    "timestamp": (timestamp, -1), "timestamp_micros": (timestamp_micros, 1), "timestamp_millis": (timestamp_millis, 1),
    "timestamp_seconds": (timestamp_seconds, 1), "unix_micros": (unix_micros, 1), "unix_millis": (unix_millis, 1),
    "unix_seconds": (unix_seconds, 1), "unix_date": (unix_date, 1), "timestamp_add": (timestamp_add, 3),
    "timestamp_sub": (timestamp_sub, 3), "timestamp_diff": (timestamp_diff, 3),
    "timestamp_trunc": (timestamp_trunc, -1), "format_timestamp": (format_timestamp, -1),
    "parse_timestamp": (parse_timestamp, -1), "datetime": (datetime_, -1), "cast": (cast, 2),
    "concat": (concat, -1), "safe_divide": (safe_divide, 2), "nz": (nz, -1), "div": (div, 2), "mod": (mod, 2),
    "starts_with": (starts_with, 2), "ends_with": (ends_with, 2), "regexp_contains": (regexp_contains, 2),
    "regexp_extract": (regexp_extract, 2), "partition_time": (partition_time, 1), "regexp_replace": (regexp_replace, 3), "json_value": (json_value, -1),
}


def _wrap(fn, name, safe):
    def call(*a):
        try:
            return fn(*a)
        except (SqlError, BadValue, ValueError, OverflowError, TypeError) as e:
            if safe:
                return None
            msg = str(e) if isinstance(e, (SqlError, BadValue)) else "%s: %s" % (name.upper(), e)
            LAST_ERROR.msg = msg
            raise
    return call


def install(conn):
    for name, (fn, nargs) in FUNCS.items():
        conn.create_function("bq_" + name, nargs, _wrap(fn, name, False), deterministic=name not in (
            "current_date", "current_timestamp"))
        conn.create_function("bq_safe_" + name, nargs, _wrap(fn, name, True))
