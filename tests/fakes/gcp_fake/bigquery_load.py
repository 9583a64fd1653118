"""Load jobs: read gs:// sources from the GCS stand-in, parse CSV / NEWLINE_DELIMITED_JSON, autodetect schemas."""
import json
import os
import re

from . import bq_types
from .bq_store import JobError
from .bq_types import BadValue

_SQL_NAME = {"INTEGER": "INT64", "FLOAT": "DOUBLE", "BOOLEAN": "BOOL"}
FORMATS = ("CSV", "NEWLINE_DELIMITED_JSON", "AVRO", "PARQUET", "ORC", "DATASTORE_BACKUP", "GOOGLE_SHEETS", "ICEBERG")


def expand_uris(storage, uris):
    """[(uri, path)] for the listed gs:// URIs (one '*' wildcard allowed, after the bucket)."""
    out = []
    for uri in uris:
        m = re.match(r"^gs://([^/]+)/(.*)$", uri)
        if not m:
            raise JobError("invalid", "Source URI must be a Google Cloud Storage location: %s" % uri)
        bucket, obj = m.groups()
        if obj.count("*") > 1:
            raise JobError("invalid", "Only one * wildcard is allowed per URI: %s" % uri, location=uri)
        if "*" in bucket:
            raise JobError("invalid", "Wildcards are not allowed in the bucket name: %s" % uri)
        if storage.bucket_dir(bucket) is None:
            raise JobError("notFound", "Not found: URI %s" % uri, location=uri)
        if "*" in obj:
            pre, post = obj.split("*")
            names = [n for n in storage.list_names(bucket)
                     if n.startswith(pre) and n.endswith(post) and len(n) >= len(pre) + len(post)]
            if not names:
                raise JobError("notFound", "Not found: URI %s" % uri, location=uri)
            for n in names:
                out.append(("gs://%s/%s" % (bucket, n), storage.object_path(bucket, n)[1]))
        else:
            path = storage.object_path(bucket, obj)[1]
            if path is None:
                raise JobError("notFound", "Not found: URI %s" % uri, location=uri)
            out.append((uri, path))
    return out


def _decode(data, encoding):
    enc = (encoding or "UTF-8").upper().replace("_", "-")
    if enc in ("UTF-8", "UTF8"):
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        return data.decode("utf-8", "replace")
    if enc in ("ISO-8859-1", "LATIN1"):
        return data.decode("latin-1")
    if enc in ("UTF-16BE", "UTF-16LE", "UTF-32BE", "UTF-32LE"):
        return data.decode(enc.lower())
    raise JobError("invalid", "Unsupported encoding %s" % encoding)


# ---- CSV -----------------------------------------------------------------------------------------
def _split_physical_lines(text):
    out, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n" or c == "\r":
            out.append((start, text[start:i]))
            if c == "\r" and i + 1 < n and text[i + 1] == "\n":
                i += 1
            start = i + 1
        i += 1
    if start < n:
        out.append((start, text[start:]))
    return out


def parse_csv_records(text, delim, quote, allow_qnl):
    """Yield (char_offset, fields, error). fields: list of (value, was_quoted)."""
    if not allow_qnl:
        for off, line in _split_physical_lines(text):
            if line == "":
                continue
            for _, fields, err in _parse_records(line, delim, quote, single_line=True):
                yield off, fields, err
        return
    yield from _parse_records(text, delim, quote, single_line=False)


def _parse_records(text, delim, quote, single_line):
    i, n = 0, len(text)
    dl = len(delim)
    while i < n:
        start = i
        if text[i] in "\r\n":  # blank line
            i += 2 if text.startswith("\r\n", i) else 1
            continue
        fields, err = [], None
        while True:
            if quote and i < n and text[i] == quote:
                buf, i = [], i + 1
                closed = False
                while i < n:
                    j = text.find(quote, i)
                    if j < 0:
                        buf.append(text[i:])
                        i = n
                        break
                    buf.append(text[i:j])
                    if j + 1 < n and text[j + 1] == quote:
                        buf.append(quote)
                        i = j + 2
                        continue
                    i = j + 1
                    closed = True
                    break
                if not closed:
                    err = "Missing close double quote (%s) character." % quote
                    fields.append(("".join(buf), True))
                    i = n
                    break
                fields.append(("".join(buf), True))
                if i < n and not text.startswith(delim, i) and text[i] not in "\r\n":
                    err = "Data between close double quote (%s) and field separator." % quote
                    while i < n and text[i] not in "\r\n":
                        i += 1
                    break
            else:
                j = i
                while j < n and not text.startswith(delim, j) and text[j] not in "\r\n":
                    j += 1
                fields.append((text[i:j], False))
                i = j
            if i < n and text.startswith(delim, i):
                i += dl
                if i >= n or text[i] in "\r\n":
                    fields.append(("", False))
                    break
                continue
            break
        if i < n and text[i] in "\r\n":
            i += 2 if text.startswith("\r\n", i) else 1
        yield start, fields, err


def _bytepos(text, char_off, base):
    return base + len(text[:char_off].encode("utf-8"))


def _sanitize_name(s, i):
    s = re.sub(r"[^A-Za-z0-9_]", "_", s.strip())
    if not s:
        return "string_field_%d" % i
    if s[0].isdigit():
        s = "_" + s
    return s[:300]


def _infer_text_type(vals):
    types = set()
    for v in vals:
        for t in ("BOOLEAN", "INTEGER", "FLOAT", "DATE", "TIMESTAMP"):
            try:
                if t == "BOOLEAN" and v.strip().lower() not in ("true", "false"):
                    raise BadValue("")
                if t == "TIMESTAMP" and not re.search(r"\d[ T]\d", v):
                    raise BadValue("")
                if t == "FLOAT" and not re.match(r"^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+)\s*$", v):
                    raise BadValue("")
                bq_types.scalar_from_text(t, v)
                types.add(t)
                break
            except BadValue:
                continue
        else:
            return "STRING"
    if not types:
        return "STRING"
    if types <= {"INTEGER", "FLOAT"}:
        return "FLOAT" if "FLOAT" in types else "INTEGER"
    return types.pop() if len(types) == 1 else "STRING"


def csv_autodetect(records, skip):
    """records: list of field-lists (values only). Returns (schema, number of leading records to skip)."""
    if skip is None:
        header_idx, skip_n = 0, 0
    elif skip == 0:
        header_idx, skip_n = None, 0
    else:
        header_idx, skip_n = skip - 1, skip - 1
    width = max((len(r) for r in records), default=0)
    data_from = (header_idx + 1) if header_idx is not None else skip_n
    body = records[data_from:]
    types = []
    for c in range(width):
        types.append(_infer_text_type([r[c] for r in body if c < len(r) and r[c] != ""]))
    header = None
    if header_idx is not None and header_idx < len(records):
        h = records[header_idx]
        h_all_string = all(v != "" and _infer_text_type([v]) == "STRING" for v in h)
        if h_all_string and (any(t != "STRING" for t in types) or skip is not None):
            header = h
    if header is None and header_idx is not None and skip:
        skip_n = skip  # row N just skipped
    elif header is not None:
        skip_n = header_idx + 1
    names = []
    for c in range(width):
        nm = _sanitize_name(header[c], c) if header is not None and c < len(header) else "string_field_%d" % c
        if header is None:
            nm = "string_field_%d" % c
        while nm.lower() in (x.lower() for x in names):
            nm += "_%d" % c
        names.append(nm)
    if header is None and skip is None:
        skip_n = 0
    return [{"name": n, "type": t, "mode": "NULLABLE"} for n, t in zip(names, types)], skip_n


# ---- JSON autodetect -------------------------------------------------------------------------------
def _json_type(v):
    if isinstance(v, bool):
        return "BOOLEAN"
    if isinstance(v, int):
        return "INTEGER"
    if isinstance(v, float):
        return "FLOAT"
    if isinstance(v, str):
        t = _infer_text_type([v])
        return t if t in ("DATE", "TIMESTAMP") else "STRING"
    return "STRING"


def _merge_field(acc, name, v):
    f = acc.setdefault(name.lower(), {"name": name, "type": None, "mode": "NULLABLE"})
    if v is None:
        return
    if isinstance(v, list):
        f["mode"] = "REPEATED"
        for x in v:
            _merge_field(acc, name, x) if False else _merge_value(f, x)
        return
    _merge_value(f, v)


def _merge_value(f, v):
    if v is None:
        return
    if isinstance(v, dict):
        f["type"] = "RECORD" if f["type"] in (None, "RECORD") else "STRING"
        sub = f.setdefault("_sub", {})
        for k, x in v.items():
            _merge_field(sub, k, x)
        return
    if isinstance(v, list):
        return
    t = _json_type(v)
    if f["type"] is None or f["type"] == t:
        f["type"] = t
    elif {f["type"], t} == {"INTEGER", "FLOAT"}:
        f["type"] = "FLOAT"
    else:
        f["type"] = "STRING"


def _finish(acc):
    out = []
    for f in acc.values():
        g = {"name": f["name"], "type": f["type"] or "STRING", "mode": f["mode"]}
        if g["type"] == "RECORD":
            g["fields"] = _finish(f.get("_sub", {})) or [{"name": "_unused", "type": "STRING", "mode": "NULLABLE"}]
        out.append(g)
    return out


# ---- the load --------------------------------------------------------------------------------------
def run_load(cfg, storage, table_schema, scopes_ok):
    """Returns (schema, rows, stats, warnings[]) or raises JobError. rows: lists in schema order (storage form)."""
    if not scopes_ok:
        raise JobError("accessDenied", "Access Denied: File %s: Access Denied" % cfg["sourceUris"][0],
                       location=cfg["sourceUris"][0])
    fmt = (cfg.get("sourceFormat") or "CSV").upper()
    if fmt not in ("CSV", "NEWLINE_DELIMITED_JSON"):
        raise JobError("invalid", "The BigQuery stand-in does not support sourceFormat %s (only CSV and "
                       "NEWLINE_DELIMITED_JSON)." % fmt)
    files = expand_uris(storage, cfg["sourceUris"])
    schema = None
    if cfg.get("schema") and cfg["schema"].get("fields"):
        try:
            schema = bq_types.normalize_schema(cfg["schema"]["fields"])
        except BadValue as e:
            raise JobError("invalid", str(e))
    max_bad = int(cfg.get("maxBadRecords") or 0)
    ignore_unknown = bool(cfg.get("ignoreUnknownValues"))
    autodetect = bool(cfg.get("autodetect"))
    stats = {"inputFiles": str(len(files)), "inputFileBytes": str(sum(os.path.getsize(p) for _, p in files))}
    errors, rows, bad, total = [], [], 0, 0
    texts = [(uri, _decode(open(path, "rb").read(), cfg.get("encoding"))) for uri, path in files]
    if fmt == "CSV":
        delim = cfg.get("fieldDelimiter", ",")
        delim = {"\\t": "\t", "tab": "\t", "\\\\t": "\t"}.get(delim, delim)
        if delim == "":
            delim = ","
        quote = cfg.get("quote", '"')
        if quote is None:
            quote = '"'
        allow_qnl = bool(cfg.get("allowQuotedNewlines"))
        skip = cfg.get("skipLeadingRows")
        skip = int(skip) if skip is not None else None
        null_marker = cfg.get("nullMarker", "")
        parsed = []
        for uri, text in texts:
            parsed.append((uri, text, list(parse_csv_records(text, delim, quote, allow_qnl))))
        if schema is None and autodetect:
            sample = [[v for v, _ in f] for _, _, recs in parsed[:1] for _, f, e in recs if e is None]
            schema, skip_auto = csv_autodetect(sample, skip)
            skip = skip_auto
        elif schema is None:
            schema = table_schema
            if schema is None:
                raise JobError("invalid", "No schema specified on job or table.")
        skip = skip or 0
        width = len(schema)
        for uri, text, recs in parsed:
            for k, (off, fields, err) in enumerate(recs):
                if k < skip:
                    continue
                total += 1
                pos = _bytepos(text, off, 0)
                msg = None
                if err:
                    msg = "Error while reading data, error message: %s; line_number: %d byte_offset_to_start_of_line: %d" % (
                        err, k + 1, pos)
                elif len(fields) < width and not cfg.get("allowJaggedRows"):
                    msg = ("Error while reading data, error message: CSV table references column position %d, but "
                           "line contains only %d columns.; line_number: %d byte_offset_to_start_of_line: %d" % (
                               width - 1, len(fields), k + 1, pos))
                elif len(fields) > width and not ignore_unknown:
                    msg = ("Error while reading data, error message: Too many values in line. Found %d column(s) "
                           "while expected %d; line_number: %d byte_offset_to_start_of_line: %d" % (
                               len(fields), width, k + 1, pos))
                row = []
                if msg is None:
                    for c, f in enumerate(schema):
                        raw = fields[c] if c < len(fields) else None
                        try:
                            if raw is None or (not raw[1] and raw[0] == null_marker) or \
                                    (raw[0] == "" and f["type"] != "STRING"):
                                if f["mode"] == "REQUIRED":
                                    raise BadValue("Required column value for column index: %d is missing." % c)
                                row.append(None)
                            elif f["type"] == "RECORD" or f["mode"] == "REPEATED":
                                raise BadValue("CSV cannot load field %s of type %s/%s" % (f["name"], f["type"], f["mode"]))
                            else:
                                row.append(bq_types.scalar_from_text(f["type"], raw[0]))
                        except BadValue as e:
                            if str(e).startswith("Required"):
                                msg = ("Error while reading data, error message: %s; line_number: %d "
                                       "byte_offset_to_start_of_line: %d" % (e, k + 1, pos))
                            else:
                                msg = ("Error while reading data, error message: Could not parse '%s' as %s for field "
                                       "%s (position %d) starting at location %d  with message 'Unable to parse'" % (
                                           raw[0], _SQL_NAME.get(f["type"], f["type"]), f["name"], c, pos))
                            break
                if msg:
                    bad += 1
                    errors.append({"reason": "invalid", "location": uri, "message": msg})
                else:
                    rows.append(row)
        kind = "CSV"
    else:
        lines = []
        for uri, text in texts:
            off = 0
            for line in text.splitlines(keepends=True):
                if line.strip():
                    lines.append((uri, off, line))
                off += len(line.encode("utf-8"))
        objs = []
        for uri, off, line in lines:
            try:
                o = json.loads(line)
                if not isinstance(o, dict):
                    raise ValueError("Expected an object")
                objs.append((uri, off, o, None))
            except ValueError as e:
                objs.append((uri, off, None, "JSON parsing error in row starting at position %d: %s" % (off, e)))
        if schema is None and autodetect:
            acc = {}
            for _, _, o, _e in objs:
                if o is not None:
                    for k, v in o.items():
                        _merge_field(acc, k, v)
            schema = _finish(acc)
        elif schema is None:
            schema = table_schema
            if schema is None:
                raise JobError("invalid", "No schema specified on job or table.")
        by_lower = {f["name"].lower(): f for f in schema}
        for uri, off, o, perr in objs:
            total += 1
            msg = perr
            row = None
            if msg is None:
                try:
                    if not ignore_unknown:
                        for k in o:
                            if k.lower() not in by_lower:
                                raise BadValue("No such field: %s." % k)
                    low = {k.lower(): v for k, v in o.items()}
                    row = [bq_types.nested_from_json(f, low.get(f["name"].lower()), "") for f in schema]
                    for f, i in zip(schema, range(len(schema))):
                        if f["type"] == "RECORD" and f["mode"] != "REPEATED" and row[i] is not None:
                            row[i] = json.dumps(row[i], ensure_ascii=False)
                        elif f["mode"] == "REPEATED":
                            row[i] = json.dumps(row[i], ensure_ascii=False)
                        elif f["type"] == "BYTES" and isinstance(row[i], str):
                            row[i] = __import__("base64").b64decode(row[i])
                except BadValue as e:
                    msg = "JSON parsing error in row starting at position %d: %s" % (off, e)
            if msg:
                bad += 1
                errors.append({"reason": "invalid", "location": uri,
                               "message": "Error while reading data, error message: " + msg})
            else:
                rows.append(row)
        kind = "JSON"
    if bad > max_bad:
        summary = {"reason": "invalid", "message": "Error while reading data, error message: %s table encountered "
                   "too many errors, giving up. Rows: %d; errors: %d. Please look into the errors[] collection for "
                   "more details." % (kind, total, bad)}
        raise JobError("invalid", summary["message"], errors=[summary] + errors[:100])
    stats["outputRows"] = str(len(rows))
    stats["badRecords"] = str(bad)
    return schema, rows, stats, errors
