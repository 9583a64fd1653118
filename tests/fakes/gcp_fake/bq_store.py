"""BigQuery datasets/tables persisted in one SQLite file: metadata + one physical table per BigQuery table.

Physical table "p.d.t" has the schema's columns (declared with BQ_* types, see bq_types.DECLTYPE)
plus "__pid" (the partition id: 'YYYYMMDD' etc., '__NULL__', '__UNPARTITIONED__', or NULL when unpartitioned).
"""
import datetime
import json
import os
import re
import sqlite3
import threading

from . import bq_types
from .util import GoogleError, now_ms

DATASET_RE = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
TABLE_RE = re.compile(r"^[\w\- ]{1,1024}$", re.UNICODE)
DECOR_RE = re.compile(r"^(\d{4}|\d{6}|\d{8}|\d{10}|__NULL__|__UNPARTITIONED__)$")
PID_LEN = {"YEAR": 4, "MONTH": 6, "DAY": 8, "HOUR": 10}


class JobError(Exception):
    """A job failure: becomes status.errorResult (+ errors)."""

    def __init__(self, reason, message, location=None, errors=None):
        super().__init__(message)
        self.reason, self.message, self.location = reason, message, location
        self.errors = errors

    def proto(self):
        p = {"reason": self.reason, "message": self.message}
        if self.location:
            p["location"] = self.location
        return p


def qi(name):
    return '"' + name.replace('"', '""') + '"'


def phys(project, dataset, table):
    return "%s.%s.%s" % (project, dataset, table)


def split_decorator(table_id):
    base, sep, dec = table_id.partition("$")
    return base, (dec if sep else None)


def _register_converters():
    tags = {}
    for bqt, decl in bq_types.DECLTYPE.items():
        base = {"BQ_INT64": int, "BQ_BOOL_INT": int}.get(decl)
        if decl.endswith("_REAL"):
            base = float
        elif base is None:
            base = str
        if decl in tags:
            continue
        cls = type("Tag_" + decl, (base,), {"bqtype": "RECORD" if decl == "BQ_NESTED_TEXT" else bqt})
        tags[decl] = cls

        def conv(b, cls=cls, base=base, decl=decl):
            if decl == "BQ_BYTES_BLOB":
                return b
            s = b.decode("utf-8")
            if base is int:
                try:
                    return cls(int(s))
                except ValueError:
                    return s
            if base is float:
                try:
                    return cls(float(s))
                except ValueError:
                    return s
            return cls(s)
        sqlite3.register_converter(decl, conv)
    return tags


TAGS = _register_converters()


class Store:
    def __init__(self, state_dir, functions_installer):
        os.makedirs(state_dir, exist_ok=True)
        self.path = os.path.join(state_dir, "bigquery.sqlite")
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                    detect_types=sqlite3.PARSE_DECLTYPES)
        self.conn.execute("PRAGMA journal_mode=WAL")
        functions_installer(self.conn)
        self.conn.execute("PRAGMA case_sensitive_like=ON")  # GoogleSQL LIKE is case-sensitive
        self.conn.executescript("""
            CREATE TABLE IF NOT EXISTS __datasets(project TEXT, dataset TEXT, location TEXT, created INTEGER,
                                                  PRIMARY KEY(project, dataset));
            CREATE TABLE IF NOT EXISTS __tables(project TEXT, dataset TEXT, table_id TEXT, schema TEXT,
                time_partitioning TEXT, clustering TEXT, created INTEGER, modified INTEGER,
                PRIMARY KEY(project, dataset, table_id));
        """)

    # -- datasets ---------------------------------------------------------------
    def dataset(self, project, dataset):
        with self.lock:
            r = self.conn.execute("SELECT location, created FROM __datasets WHERE project=? AND dataset=?",
                                  (project, dataset)).fetchone()
        return None if r is None else {"location": r[0], "created": r[1]}

    def create_dataset(self, project, dataset, location="US"):
        if not DATASET_RE.match(dataset or ""):
            raise GoogleError(400, 'Invalid dataset ID "%s". Dataset IDs must be alphanumeric (plus underscores) '
                              'and must be at most 1024 characters long.' % dataset, "invalid")
        with self.lock:
            if self.dataset(project, dataset):
                raise GoogleError(409, "Already Exists: Dataset %s:%s" % (project, dataset), "duplicate")
            self.conn.execute("INSERT INTO __datasets VALUES (?,?,?,?)", (project, dataset, location, now_ms()))

    def list_datasets(self, project):
        with self.lock:
            return [r[0] for r in self.conn.execute(
                "SELECT dataset FROM __datasets WHERE project=? ORDER BY dataset", (project,))]

    def delete_dataset(self, project, dataset, delete_contents):
        with self.lock:
            if not self.dataset(project, dataset):
                raise GoogleError(404, "Not found: Dataset %s:%s" % (project, dataset), "notFound")
            tables = self.list_tables(project, dataset)
            if tables and not delete_contents:
                raise GoogleError(400, "Dataset %s:%s is still in use" % (project, dataset), "resourceInUse")
            for t in tables:
                self.delete_table(project, dataset, t)
            self.conn.execute("DELETE FROM __datasets WHERE project=? AND dataset=?", (project, dataset))

    # -- tables -------------------------------------------------------------------
    def table(self, project, dataset, table_id):
        with self.lock:
            r = self.conn.execute("SELECT schema, time_partitioning, clustering, created, modified FROM __tables "
                                  "WHERE project=? AND dataset=? AND table_id=?",
                                  (project, dataset, table_id)).fetchone()
            if r is None:
                return None
            n = self.conn.execute("SELECT COUNT(*), COALESCE(SUM(%s),0) FROM %s" % (
                "0", qi(phys(project, dataset, table_id)))).fetchone()
        return {"project": project, "dataset": dataset, "table": table_id, "schema": json.loads(r[0]),
                "timePartitioning": json.loads(r[1]) if r[1] else None,
                "clustering": json.loads(r[2]) if r[2] else None, "created": r[3], "modified": r[4],
                "numRows": n[0]}

    def list_tables(self, project, dataset):
        with self.lock:
            return [r[0] for r in self.conn.execute(
                "SELECT table_id FROM __tables WHERE project=? AND dataset=? ORDER BY table_id", (project, dataset))]

    def delete_table(self, project, dataset, table_id):
        with self.lock:
            if not self.table(project, dataset, table_id):
                raise GoogleError(404, "Not found: Table %s:%s.%s" % (project, dataset, table_id), "notFound")
            self.conn.execute("DROP TABLE IF EXISTS %s" % qi(phys(project, dataset, table_id)))
            self.conn.execute("DELETE FROM __tables WHERE project=? AND dataset=? AND table_id=?",
                              (project, dataset, table_id))

    def create_table(self, project, dataset, table_id, schema, time_partitioning=None, clustering=None):
        cols = ", ".join("%s %s" % (qi(f["name"]), bq_types.DECLTYPE["REPEATED" if f["mode"] == "REPEATED"
                                                                      else f["type"]]) for f in schema)
        with self.lock:
            self.conn.execute("CREATE TABLE %s (%s%s__pid TEXT)" % (qi(phys(project, dataset, table_id)), cols,
                                                                   ", " if cols else ""))
            self.conn.execute("INSERT INTO __tables VALUES (?,?,?,?,?,?,?,?)",
                              (project, dataset, table_id, json.dumps(schema),
                               json.dumps(time_partitioning) if time_partitioning else None,
                               json.dumps(clustering) if clustering else None, now_ms(), now_ms()))

    def rows(self, project, dataset, table_id, fields=None):
        t = self.table(project, dataset, table_id)
        cols = ", ".join(qi(f["name"]) for f in t["schema"]) or "NULL"
        with self.lock:
            return t, [list(r) for r in self.conn.execute("SELECT %s FROM %s ORDER BY rowid" % (
                cols, qi(phys(project, dataset, table_id))))]

    def drop_all(self):
        with self.lock:
            for p, d, t in self.conn.execute("SELECT project, dataset, table_id FROM __tables").fetchall():
                self.conn.execute("DROP TABLE IF EXISTS %s" % qi(phys(p, d, t)))
            self.conn.execute("DELETE FROM __tables")
            self.conn.execute("DELETE FROM __datasets")

    def table_bytes(self, project, dataset, table_id):
        """Approximate logical bytes (BigQuery sizes: 8 per INT64/FLOAT, 2+len per STRING, ...)."""
        t = self.table(project, dataset, table_id)
        if not t or not t["schema"]:
            return 0
        parts = []
        for f in t["schema"]:
            c = qi(f["name"])
            if f["type"] in ("STRING", "BYTES", "JSON", "GEOGRAPHY") or f["mode"] == "REPEATED" or f["type"] == "RECORD":
                parts.append("COALESCE(2+LENGTH(CAST(%s AS BLOB)),0)" % c)
            elif f["type"] == "BOOLEAN":
                parts.append("(%s IS NOT NULL)" % c)
            else:
                parts.append("(CASE WHEN %s IS NULL THEN 0 ELSE 8 END)" % c)
        with self.lock:
            return self.conn.execute("SELECT COALESCE(SUM(%s),0) FROM %s" % (
                "+".join(parts), qi(phys(project, dataset, table_id)))).fetchone()[0]

    # -- writes (load and query destinations) --------------------------------------
    def write(self, ref, schema, rows, write_disposition, create_disposition, time_partitioning=None,
              clustering=None, schema_update_options=(), source="load"):
        """Atomically write rows (lists in schema order, storage values) honoring dispositions and decorators.

        ref: {"projectId","datasetId","tableId"} (tableId may carry a $decorator). Raises JobError.
        Returns the number of rows written.
        """
        p, d = ref["projectId"], ref["datasetId"]
        tid, dec = split_decorator(ref["tableId"])
        name = "%s:%s.%s" % (p, d, tid)
        with self.lock:
            if not self.dataset(p, d):
                raise JobError("notFound", "Not found: Dataset %s:%s" % (p, d))
            meta = self.table(p, d, tid)
            if meta is None:
                if create_disposition == "CREATE_NEVER":
                    raise JobError("notFound", "Not found: Table %s" % name)
                if schema is None:
                    raise JobError("invalid", "No schema specified on job or table.")
                tp = time_partitioning
                if dec and not tp and DECOR_RE.match(dec) and dec[0].isdigit():
                    tp = {"type": {4: "YEAR", 6: "MONTH", 8: "DAY", 10: "HOUR"}[len(dec)]}
                self._check_tp(tp, schema)
                created = True
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    self.create_table(p, d, tid, schema, tp, clustering)
                    meta = self.table(p, d, tid)
                except Exception:
                    self.conn.execute("ROLLBACK")
                    raise
            else:
                created = False
                self.conn.execute("BEGIN IMMEDIATE")
            try:
                n = self._write_into(meta, name, dec, schema, rows, write_disposition, created,
                                     time_partitioning, schema_update_options, source)
                self.conn.execute("UPDATE __tables SET modified=? WHERE project=? AND dataset=? AND table_id=?",
                                  (now_ms(), p, d, tid))
                self.conn.execute("COMMIT")
                return n
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def _check_tp(self, tp, schema):
        if not tp:
            return
        typ = tp.get("type", "DAY")
        if typ not in PID_LEN:
            raise JobError("invalid", "Invalid value for timePartitioning.type: %s" % typ)
        fld = tp.get("field")
        if fld:
            f = next((f for f in schema if f["name"].lower() == fld.lower()), None)
            if f is None:
                raise JobError("invalid", "The field specified for time partitioning can only be found in the "
                               "schema with the following types: DATE, TIMESTAMP, DATETIME. Invalid field: %s" % fld)
            if f["type"] not in ("DATE", "TIMESTAMP", "DATETIME") or f["mode"] == "REPEATED":
                raise JobError("invalid", "Partitioning field %s must be of type DATE, TIMESTAMP or DATETIME, "
                               "but is %s" % (fld, f["type"]))
            if f["type"] == "DATE" and typ == "HOUR":
                raise JobError("invalid", "HOUR partitioning is not supported for DATE partitioning column %s" % fld)

    def _write_into(self, meta, name, dec, schema, rows, wd, created, job_tp, sup, source):
        p, d, tid = meta["project"], meta["dataset"], meta["table"]
        tp = meta["timePartitioning"]
        table_schema = meta["schema"]
        pt = qi(phys(p, d, tid))
        if job_tp and not created:
            if not tp or tp.get("type", "DAY") != job_tp.get("type", "DAY") or \
                    (tp.get("field") or "").lower() != (job_tp.get("field") or "").lower():
                raise JobError("invalid", "Incompatible table partitioning specification. Expected partitioning "
                               "specification %s, but input partitioning specification is %s" % (
                                   _tp_desc(tp), _tp_desc(job_tp)))
        if dec is not None:
            if not DECOR_RE.match(dec):
                raise JobError("invalid", "Invalid table ID \"%s$%s\"." % (tid, dec))
            if not tp:
                raise JobError("invalid", "Cannot write to partition %s of non-partitioned table %s" % (dec, name))
            want = PID_LEN[tp.get("type", "DAY")]
            if dec[0].isdigit() and len(dec) != want:
                raise JobError("invalid", "Partition decorator %s does not match the %s partitioning of table %s"
                               % (dec, tp.get("type", "DAY"), name))
            if dec[0].isdigit() and not _valid_pid(dec):
                raise JobError("invalid", "Invalid partition decorator %s" % dec)
        # schema reconciliation
        if schema is not None and not created:
            if wd == "WRITE_TRUNCATE" and dec is None:
                table_schema = schema  # truncation replaces schema
            else:
                table_schema = _merge_schema(table_schema, schema, name, sup)
        target_schema = table_schema if schema is None else schema
        if table_schema != meta["schema"]:
            self._rebuild(meta, table_schema)
        # compute partition ids
        pids = [None] * len(rows)
        if tp:
            fld = tp.get("field")
            typ = tp.get("type", "DAY")
            if fld:
                idx = next(i for i, f in enumerate(target_schema) if f["name"].lower() == fld.lower())
                pids = [_pid_of(r[idx], typ) for r in rows]
                if dec is not None:
                    bad = [x for x in pids if x != dec]
                    if bad:
                        raise JobError("invalid", "Some rows belong to different partitions rather than "
                                       "destination partition %s" % dec)
            else:
                pid = dec if dec is not None else _pid_now(typ)
                pids = [pid] * len(rows)
        # dispositions
        if dec is not None:
            exists = self.conn.execute("SELECT COUNT(*) FROM %s WHERE __pid=?" % pt, (dec,)).fetchone()[0]
        else:
            exists = self.conn.execute("SELECT COUNT(*) FROM %s" % pt).fetchone()[0]
        if wd == "WRITE_EMPTY" and exists:
            raise JobError("duplicate", "Already Exists: Table %s%s" % (name, "$" + dec if dec else ""))
        if wd == "WRITE_TRUNCATE":
            if dec is not None:
                self.conn.execute("DELETE FROM %s WHERE __pid=?" % pt, (dec,))
            else:
                self.conn.execute("DELETE FROM %s" % pt)
        # insert, mapping target_schema columns into table_schema order
        pos = {f["name"].lower(): i for i, f in enumerate(target_schema)}
        cols = [f["name"] for f in table_schema]
        src_idx = [pos.get(c.lower()) for c in cols]
        sql = "INSERT INTO %s (%s) VALUES (%s)" % (pt, ", ".join([qi(c) for c in cols] + ["__pid"]),
                                                 ", ".join("?" * (len(cols) + 1)))
        out = []
        for r, pid in zip(rows, pids):
            vals = [(_store_nested(r[i]) if i is not None else None) for i in src_idx]
            out.append(vals + [pid])
        self.conn.executemany(sql, out)
        return len(rows)

    def _rebuild(self, meta, new_schema):
        p, d, tid = meta["project"], meta["dataset"], meta["table"]
        old = qi(phys(p, d, tid))
        tmp = qi(phys(p, d, tid) + ".__rebuild")
        old_names = {f["name"].lower(): f["name"] for f in meta["schema"]}
        cols = ", ".join("%s %s" % (qi(f["name"]), bq_types.DECLTYPE["REPEATED" if f["mode"] == "REPEATED"
                                                                      else f["type"]]) for f in new_schema)
        self.conn.execute("CREATE TABLE %s (%s, __pid TEXT)" % (tmp, cols))
        common = [f["name"] for f in new_schema if f["name"].lower() in old_names]
        if common:
            self.conn.execute("INSERT INTO %s (%s, __pid) SELECT %s, __pid FROM %s" % (
                tmp, ", ".join(qi(c) for c in common), ", ".join(qi(old_names[c.lower()]) for c in common), old))
        self.conn.execute("DROP TABLE %s" % old)
        self.conn.execute("ALTER TABLE %s RENAME TO %s" % (tmp, old))
        self.conn.execute("UPDATE __tables SET schema=? WHERE project=? AND dataset=? AND table_id=?",
                          (json.dumps(new_schema), p, d, tid))
        meta["schema"] = new_schema


def _store_nested(v):
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v


def _tp_desc(tp):
    if not tp:
        return "none"
    return "interval(type:%s%s)" % (tp.get("type", "DAY").lower(), ",field:%s" % tp["field"] if tp.get("field") else "")


def _valid_pid(dec):
    fmt = {4: "%Y", 6: "%Y%m", 8: "%Y%m%d", 10: "%Y%m%d%H"}[len(dec)]
    try:
        datetime.datetime.strptime(dec, fmt)
        return True
    except ValueError:
        return False


def _pid_of(value, typ):
    if value is None:
        return "__NULL__"
    s = str(value)
    digits = s[0:4] + s[5:7] + s[8:10] + (s[11:13] if len(s) >= 13 else "00")
    return digits[:PID_LEN[typ]]


def _pid_now(typ):
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H")[:PID_LEN[typ]]


def _merge_schema(old, new, name, sup):
    """Compare a job schema to the table schema (WRITE_APPEND or partition writes)."""
    sup = set(sup or ())
    old_by = {f["name"].lower(): f for f in old}
    merged = [dict(f) for f in old]
    for f in new:
        o = old_by.get(f["name"].lower())
        if o is None:
            if "ALLOW_FIELD_ADDITION" not in sup:
                raise JobError("invalid", "Provided Schema does not match Table %s. Cannot add fields (field: %s)"
                               % (name, f["name"]))
            if f["mode"] == "REQUIRED":
                raise JobError("invalid", "Provided Schema does not match Table %s. Cannot add required fields "
                               "(field: %s)" % (name, f["name"]))
            merged.append(f)
            continue
        if o["type"] != f["type"]:
            raise JobError("invalid", "Provided Schema does not match Table %s. Field %s has changed type from %s to %s"
                           % (name, f["name"], o["type"], f["type"]))
        if o["mode"] != f["mode"]:
            if o["mode"] == "REQUIRED" and f["mode"] == "NULLABLE" and "ALLOW_FIELD_RELAXATION" in sup:
                for m in merged:
                    if m["name"].lower() == f["name"].lower():
                        m["mode"] = "NULLABLE"
            else:
                raise JobError("invalid", "Provided Schema does not match Table %s. Field %s has changed mode from "
                               "%s to %s" % (name, f["name"], o["mode"], f["mode"]))
        if o["type"] == "RECORD" and o.get("fields") != f.get("fields"):
            if _merge_schema(o["fields"], f["fields"], name, sup) != o["fields"]:
                for m in merged:
                    if m["name"].lower() == f["name"].lower():
                        m["fields"] = _merge_schema(o["fields"], f["fields"], name, sup)
    new_names = {f["name"].lower() for f in new}
    for o in old:
        if o["name"].lower() not in new_names and o["mode"] == "REQUIRED":
            raise JobError("invalid", "Provided Schema does not match Table %s. Field %s is missing in new schema"
                           % (name, o["name"]))
    return merged
