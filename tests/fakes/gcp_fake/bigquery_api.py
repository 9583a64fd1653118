"""BigQuery v2 REST surface: jobs (insert/get/list/cancel/getQueryResults/query), datasets, tables, tabledata.list."""
import base64
import hashlib
import json
import math
import re
import secrets
import threading
import time
import urllib.parse

from . import bigquery_load, bigquery_sql, bq_types
from .auth import GCS_SCOPES
from .bq_store import DATASET_RE, TABLE_RE, JobError, split_decorator
from .util import GoogleError, json_response, now_ms

JOB_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,1024}$")
WRITE_DISPOSITIONS = ("WRITE_TRUNCATE", "WRITE_APPEND", "WRITE_EMPTY")
CREATE_DISPOSITIONS = ("CREATE_IF_NEEDED", "CREATE_NEVER")
REASON_HTTP = {"invalidQuery": 400, "invalid": 400, "notFound": 404, "duplicate": 409, "accessDenied": 403,
               "bytesBilledLimitExceeded": 400, "stopped": 400, "backendError": 500, "internalError": 500,
               "rateLimitExceeded": 403, "quotaExceeded": 403, "responseTooLarge": 403, "resourcesExceeded": 400,
               "jobInternalError": 400, "timeout": 400}
LEGACY_HELP = "[Try using standard SQL (https://cloud.google.com/bigquery/docs/reference/standard-sql/enabling-standard-sql)]"
MB = 1024 * 1024
# BigQuery's limit on the GoogleSQL query text. It is checked on the request: a longer query is refused with
# 400 and no job is created, so a caller cannot treat it as a job that failed.
MAX_QUERY_CHARS = 1024000
QUERY_TOO_LARGE = ("The query is too large. The maximum standard SQL query length is 1024.00K characters, including "
                   "comments and white space characters.")


def _bad(msg, reason="invalid"):
    return GoogleError(400, msg, reason)


def _check_query_length(text):
    # Characters, not bytes: the limit counts characters, so a query in Japanese is not refused sooner.
    if len(text) > MAX_QUERY_CHARS:
        raise _bad(QUERY_TOO_LARGE)


class Job:
    def __init__(self, project, job_id, location, config, user, scopes, timing):
        self.project, self.id, self.location = project, job_id, location
        self.config = config
        self.user = user
        self.scopes = scopes
        self.created = now_ms()
        self.started = None
        self.ended = None
        self.state = "PENDING"
        self.error = None
        self.errors = None
        self.stats = {}
        self.result = None  # (schema, rows)
        self.duration = timing["job_duration_s"]
        self.running_polls = timing["running_polls"]
        self.polls = 0
        self.hold = False
        self.forced = None  # forced failure {"reason","message"}
        self.kind = "query" if "query" in config else "load" if "load" in config else \
            next((k for k in ("copy", "extract") if k in config), "unknown")
        self.lock = threading.Lock()

    def ref(self):
        return {"projectId": self.project, "jobId": self.id, "location": self.location}


class BigQuery:
    def __init__(self, store, storage, discovery, project, base_url_fn, timing):
        self.store = store
        self.storage = storage
        self.disc = discovery
        self.project = project
        self.projects = {project}
        self.base_url = base_url_fn
        self.timing = timing  # shared dict: job_duration_s, running_polls, max_wait_s
        self.jobs = {}
        self.request_ids = {}
        self.lock = threading.RLock()
        self.counters = {"job_inserts_attempted": 0, "job_inserts_accepted": 0, "job_inserts_duplicate": 0,
                         "jobs_cancelled": 0, "jobs_completed": 0, "jobs_failed": 0, "dry_runs": 0,
                         "queries_sync": 0}
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    # ---- lifecycle ----------------------------------------------------------------------------
    def reset(self, tables=False):
        with self.lock:
            self.jobs.clear()
            self.request_ids.clear()
            for k in self.counters:
                self.counters[k] = 0
        if tables:
            self.store.drop_all()

    def _tick(self):
        while not self._stop.wait(0.1):
            with self.lock:
                jobs = list(self.jobs.values())
            for j in jobs:
                if j.state != "DONE" and self._time_ok(j) and time.time() * 1000 - j.created > \
                        (j.duration + 1.0) * 1000:
                    self.complete(j)

    def _time_ok(self, job):
        return not job.hold and (time.time() * 1000 - job.created) >= job.duration * 1000

    def observe(self, job, poll):
        """Called by jobs.get (poll=True) and others; may finish the job."""
        if job.state == "DONE":
            return
        if self._time_ok(job) and (not poll or job.polls >= job.running_polls):
            self.complete(job)
        elif poll:
            job.polls += 1
        if job.state == "PENDING" and (time.time() * 1000 - job.created) >= job.duration * 1000 / 3:
            job.state = "RUNNING"
            job.started = job.started or now_ms()

    def wait(self, job, timeout_s):
        deadline = time.time() + min(timeout_s, self.timing["max_wait_s"])
        while True:
            if job.state == "DONE":
                return True
            if self._time_ok(job):
                self.complete(job)
                return True
            if time.time() >= deadline:
                self.observe(job, poll=False)
                return job.state == "DONE"
            time.sleep(0.02)

    def complete(self, job):
        with job.lock:
            if job.state == "DONE":
                return
            job.started = job.started or now_ms()
            try:
                if job.forced:
                    raise JobError(job.forced.get("reason", "backendError"), job.forced.get("message", "Forced failure"))
                if job.kind == "query":
                    self._run_query_job(job)
                elif job.kind == "load":
                    self._run_load_job(job)
                else:
                    raise JobError("invalid", "The BigQuery stand-in does not support %s jobs." % job.kind)
                self.counters["jobs_completed"] += 1
            except JobError as e:
                job.error = e.proto()
                job.errors = e.errors or [e.proto()]
                self.counters["jobs_failed"] += 1
            except Exception as e:  # a stand-in bug must not look like success
                job.error = {"reason": "internalError", "message": "BigQuery stand-in internal error: %r" % e}
                job.errors = [job.error]
                self.counters["jobs_failed"] += 1
            job.ended = now_ms()
            job.state = "DONE"

    # ---- job execution ------------------------------------------------------------------------
    def _check_legacy(self, q):
        text = q.get("query", "")
        legacy = q.get("useLegacySql")
        m = re.match(r"^\s*#(standardSQL|legacySQL)\b", text, re.I)
        if m:
            prefix_legacy = m.group(1).lower() == "legacysql"
            if legacy is not None and legacy != prefix_legacy:
                raise JobError("invalid", "Query text specifies %s, but useLegacySql in the job configuration is %s" % (
                    m.group(0).strip(), "true" if legacy else "false"), location="query")
            legacy = prefix_legacy
        if legacy is None:
            legacy = True  # REST default
        if not legacy:
            return
        if q.get("queryParameters"):
            raise JobError("invalid", "Query parameters cannot be used in legacy SQL queries; set "
                           "useLegacySql to false.", location="query")
        bt = re.search(r"`[^`]*`", text)
        if bt:
            raise JobError("invalidQuery", "Invalid table name: %s %s." % (bt.group(0), LEGACY_HELP), location="query")
        raise JobError("invalidQuery", "The BigQuery stand-in does not run legacy SQL (useLegacySql is absent or true; "
                       "the REST default is true). Send \"useLegacySql\": false for GoogleSQL.", location="query")

    def _billing(self, q, processed):
        billed = 0 if processed == 0 else max(10 * MB, int(math.ceil(processed / MB)) * MB)
        limit = q.get("maximumBytesBilled")
        if limit is not None and int(limit) > 0 and billed > int(limit):
            raise JobError("bytesBilledLimitExceeded", "Query exceeded limit for bytes billed: %d. %d or higher "
                           "required." % (int(limit), billed))
        return billed

    def _run_query_job(self, job):
        q = job.config["query"]
        self._check_legacy(q)
        dest = q.get("destinationTable")
        plan = bigquery_sql.run_query(self.store, q["query"], q, job.project, dry_run=True)
        billed = self._billing(q, plan["bytes"])
        res = bigquery_sql.run_query(self.store, q["query"], q, job.project)
        if dest:
            self.store.write(dest, res["schema"], res["rows"], q.get("writeDisposition") or "WRITE_EMPTY",
                             q.get("createDisposition") or "CREATE_IF_NEEDED", q.get("timePartitioning"),
                             q.get("clustering"), q.get("schemaUpdateOptions") or (), source="query")
        job.result = (res["schema"], res["rows"])
        refs = [{"projectId": m["project"], "datasetId": m["dataset"], "tableId": m["table"]} for m in res["tables"]]
        slot = 10 + len(res["rows"]) // 10
        job.stats = {"totalBytesProcessed": str(plan["bytes"]), "totalSlotMs": str(slot),
                     "query": {"totalBytesProcessed": str(plan["bytes"]), "totalBytesBilled": str(billed),
                               "billingTier": 1, "cacheHit": False, "statementType": "SELECT",
                               "totalSlotMs": str(slot), "schema": {"fields": bq_types.schema_out(res["schema"])},
                               "referencedTables": refs}}

    def _run_load_job(self, job):
        cfg = job.config["load"]
        dest = cfg["destinationTable"]
        tid, _ = split_decorator(dest["tableId"])
        if not self.store.dataset(dest["projectId"], dest["datasetId"]):
            raise JobError("notFound", "Not found: Dataset %s:%s" % (dest["projectId"], dest["datasetId"]))
        meta = self.store.table(dest["projectId"], dest["datasetId"], tid)
        if meta is None and cfg.get("createDisposition") == "CREATE_NEVER":
            raise JobError("notFound", "Not found: Table %s:%s.%s" % (dest["projectId"], dest["datasetId"], tid))
        schema, rows, stats, warnings = bigquery_load.run_load(
            cfg, self.storage, meta["schema"] if meta else None, bool(job.scopes & GCS_SCOPES))
        if meta and not (cfg.get("schema") or {}).get("fields") and not cfg.get("autodetect"):
            schema_for_write = None
        else:
            schema_for_write = schema
        if meta is None and schema_for_write is None:
            schema_for_write = schema
        n = self.store.write(dest, schema_for_write, rows, cfg.get("writeDisposition") or "WRITE_APPEND",
                             cfg.get("createDisposition") or "CREATE_IF_NEEDED", cfg.get("timePartitioning"),
                             cfg.get("clustering"), cfg.get("schemaUpdateOptions") or ())
        out_bytes = sum(len(json.dumps(r, default=str)) for r in rows)
        stats["outputBytes"] = str(out_bytes)
        stats["outputRows"] = str(n)
        job.stats = {"load": stats, "totalSlotMs": str(5 + n // 100)}
        if warnings:
            job.errors = warnings

    # ---- resources ----------------------------------------------------------------------------
    def job_resource(self, job):
        status = {"state": job.state}
        if job.state == "DONE" and job.error:
            status["errorResult"] = job.error
        if job.errors and job.state == "DONE":
            status["errors"] = job.errors
        stats = {"creationTime": str(job.created)}
        if job.started:
            stats["startTime"] = str(job.started)
        if job.state == "DONE":
            stats["endTime"] = str(job.ended)
            stats.update(job.stats)
        cfg = json.loads(json.dumps(job.config))
        cfg["jobType"] = job.kind.upper()
        if job.kind == "query":
            q = cfg["query"]
            q.setdefault("priority", "INTERACTIVE")
            if "destinationTable" not in q:
                h = hashlib.sha1(job.id.encode()).hexdigest()
                q["destinationTable"] = {"projectId": job.project, "datasetId": "_" + h[:40],
                                         "tableId": "anon" + h[:40]}
                q.setdefault("writeDisposition", "WRITE_TRUNCATE")
            else:
                q.setdefault("writeDisposition", "WRITE_EMPTY")
            q.setdefault("createDisposition", "CREATE_IF_NEEDED")
        elif job.kind == "load":
            ld = cfg["load"]
            ld.setdefault("sourceFormat", "CSV")
            ld.setdefault("writeDisposition", "WRITE_APPEND")
            ld.setdefault("createDisposition", "CREATE_IF_NEEDED")
        sid = "%s:%s.%s" % (job.project, job.location, job.id)
        return {"kind": "bigquery#job", "etag": base64.b64encode(hashlib.md5(
            (sid + job.state).encode()).digest()).decode(), "id": sid,
            "selfLink": "%s/bigquery/v2/projects/%s/jobs/%s?location=%s" % (self.base_url(), job.project, job.id,
                                                                           job.location),
            "user_email": job.user, "principal_subject": "serviceAccount:" + job.user,
            "configuration": cfg, "jobReference": job.ref(), "statistics": stats, "status": status}

    def _project(self, p, write=False):
        if p not in self.projects:
            if write:
                raise GoogleError(403, "Access Denied: Project %s: User does not have bigquery.jobs.create "
                                  "permission in project %s." % (p, p), "accessDenied")
            raise GoogleError(404, "Not found: Project %s" % p, "notFound")

    def _get_job(self, p, job_id, query):
        loc = query.get("location", [None])[0]
        with self.lock:
            job = self.jobs.get((p, job_id))
        if job is None or (loc and loc.upper() != job.location.upper()):
            raise GoogleError(404, "Not found: Job %s:%s.%s" % (p, (loc or "US"), job_id), "notFound")
        return job

    # ---- request dispatch ---------------------------------------------------------------------
    def handle(self, method, path, query, body, token):
        """path: after /bigquery/v2/ (still percent-encoded)."""
        segs = [urllib.parse.unquote(s) for s in path.strip("/").split("/")]
        if len(segs) < 2 or segs[0] != "projects":
            raise GoogleError(404, "Not found: URL %s" % path, "notFound")
        p = segs[1]
        rest = segs[2:]
        r = (method, tuple("{}" if i % 2 == 1 else s for i, s in enumerate(rest)))
        routes = {
            ("POST", ("jobs",)): ("bigquery.jobs.insert", self.jobs_insert),
            ("GET", ("jobs",)): ("bigquery.jobs.list", self.jobs_list),
            ("GET", ("jobs", "{}")): ("bigquery.jobs.get", self.jobs_get),
            ("POST", ("jobs", "{}", "cancel")): ("bigquery.jobs.cancel", self.jobs_cancel),
            ("GET", ("queries", "{}")): ("bigquery.jobs.getQueryResults", self.get_query_results),
            ("POST", ("queries",)): ("bigquery.jobs.query", self.jobs_query),
            ("GET", ("datasets",)): ("bigquery.datasets.list", self.datasets_list),
            ("POST", ("datasets",)): ("bigquery.datasets.insert", self.datasets_insert),
            ("GET", ("datasets", "{}")): ("bigquery.datasets.get", self.datasets_get),
            ("DELETE", ("datasets", "{}")): ("bigquery.datasets.delete", self.datasets_delete),
            ("GET", ("datasets", "{}", "tables")): ("bigquery.tables.list", self.tables_list),
            ("POST", ("datasets", "{}", "tables")): ("bigquery.tables.insert", self.tables_insert),
            ("GET", ("datasets", "{}", "tables", "{}")): ("bigquery.tables.get", self.tables_get),
            ("DELETE", ("datasets", "{}", "tables", "{}")): ("bigquery.tables.delete", self.tables_delete),
            ("GET", ("datasets", "{}", "tables", "{}", "data")): ("bigquery.tabledata.list", self.tabledata_list),
        }
        if r not in routes:
            raise GoogleError(404, "Not found: URL /bigquery/v2/%s" % path.strip("/"), "notFound")
        method_id, fn = routes[r]
        self.disc.validate_query(method_id, query)
        args = [rest[i] for i in range(1, len(rest), 2)]
        return fn(p, args, query, body, token)

    def _json(self, body, schema, root):
        try:
            obj = json.loads(body.decode("utf-8")) if body else {}
        except (ValueError, UnicodeDecodeError):
            raise _bad("Invalid JSON payload received. Unexpected token.")
        self.disc.validate_body(schema, obj, root)
        return obj

    # ---- jobs ---------------------------------------------------------------------------------
    def _validate_table_ref(self, ref, what, project, allow_decorator=True):
        if not isinstance(ref, dict) or not ref.get("datasetId") or not ref.get("tableId"):
            raise _bad("Required parameter is missing: %s" % what, "required")
        ref.setdefault("projectId", project)
        if not ref.get("projectId"):
            ref["projectId"] = project
        if not DATASET_RE.match(ref["datasetId"]):
            raise _bad('Invalid dataset ID "%s". Dataset IDs must be alphanumeric (plus underscores) and must be at '
                       'most 1024 characters long.' % ref["datasetId"])
        base, dec = split_decorator(ref["tableId"])
        if not TABLE_RE.match(base) or (dec is not None and not allow_decorator):
            raise _bad('Invalid table ID "%s". Table IDs must be alphanumeric (plus underscores) and must be at most '
                       '1024 characters long. Also, Table decorators cannot be used.' % ref["tableId"])
        if dec is not None and not re.match(r"^(\d{4}|\d{6}|\d{8}|\d{10}|__NULL__|__UNPARTITIONED__)$", dec):
            raise _bad('Invalid table ID "%s".' % ref["tableId"])

    def _enum(self, cfg, key, allowed, prefix):
        v = cfg.get(key)
        if v is not None and v not in allowed:
            raise _bad("Invalid value for %s: %s is not a valid value" % (key, v))

    def _validate_config(self, cfg, project):
        kinds = [k for k in ("query", "load", "copy", "extract") if cfg.get(k) is not None]
        if len(kinds) != 1:
            raise _bad("Job configuration must contain exactly one job-specific configuration object (e.g., query, "
                       "load, extract, spreadsheetExtract), but there were %d: %s" % (len(kinds), ", ".join(kinds)))
        if "query" in kinds:
            q = cfg["query"]
            if not q.get("query"):
                raise _bad("Required parameter is missing: query", "required")
            _check_query_length(q["query"])
            self._enum(q, "writeDisposition", WRITE_DISPOSITIONS, "query")
            self._enum(q, "createDisposition", CREATE_DISPOSITIONS, "query")
            self._enum(q, "priority", ("INTERACTIVE", "BATCH"), "query")
            self._enum(q, "parameterMode", ("NAMED", "POSITIONAL"), "query")
            if q.get("destinationTable") is not None:
                self._validate_table_ref(q["destinationTable"], "destinationTable", project)
            if q.get("timePartitioning"):
                self._enum(q["timePartitioning"], "type", ("DAY", "HOUR", "MONTH", "YEAR"), "")
                if not q.get("destinationTable"):
                    raise _bad("Cannot specify timePartitioning without a destination table")
        if "load" in kinds:
            ld = cfg["load"]
            if not ld.get("sourceUris"):
                raise _bad("Load configuration must specify at least one source URI", "invalid")
            if ld.get("destinationTable") is None:
                raise _bad("Load configuration must specify destination table", "invalid")
            self._validate_table_ref(ld["destinationTable"], "destinationTable", project)
            for u in ld["sourceUris"]:
                if not u.startswith("gs://"):
                    raise _bad("Source URI must be a Google Cloud Storage location: %s" % u)
                if u.count("*") > 1:
                    raise _bad("Only one * wildcard is allowed per URI: %s" % u)
            self._enum(ld, "writeDisposition", WRITE_DISPOSITIONS, "load")
            self._enum(ld, "createDisposition", CREATE_DISPOSITIONS, "load")
            self._enum(ld, "sourceFormat", bigquery_load.FORMATS, "load")
            if ld.get("timePartitioning"):
                self._enum(ld["timePartitioning"], "type", ("DAY", "HOUR", "MONTH", "YEAR"), "")
            if ld.get("schema") and ld["schema"].get("fields"):
                try:
                    bq_types.normalize_schema(ld["schema"]["fields"])
                except bq_types.BadValue as e:
                    raise _bad(str(e))
            if ld.get("quote") is not None and len(ld["quote"]) > 1:
                raise _bad("Quote must be a single character or empty")
            sup = ld.get("schemaUpdateOptions") or []
            for s in sup:
                if s not in ("ALLOW_FIELD_ADDITION", "ALLOW_FIELD_RELAXATION"):
                    raise _bad("Invalid value for schemaUpdateOptions: %s is not a valid value" % s)
            if sup and not (ld.get("writeDisposition") in (None, "WRITE_APPEND") or
                            (ld.get("writeDisposition") == "WRITE_TRUNCATE" and "$" in ld["destinationTable"]["tableId"])):
                raise _bad("Schema update options should only be specified with WRITE_APPEND disposition, or with "
                           "WRITE_TRUNCATE disposition on a table partition.")
        return kinds[0]

    def jobs_insert(self, p, args, query, body, token):
        self.counters["job_inserts_attempted"] += 1
        self._project(p, write=True)
        obj = self._json(body, "Job", "job")
        cfg = obj.get("configuration")
        if not cfg:
            raise _bad("Job configuration must contain exactly one job-specific configuration object (e.g., query, "
                       "load, extract, spreadsheetExtract), but there were 0: ")
        ref = obj.get("jobReference") or {}
        job_id = ref.get("jobId")
        if job_id is None or job_id == "":
            job_id = "job_" + secrets.token_urlsafe(21).replace("-", "_")
        elif not JOB_ID_RE.match(job_id):
            raise _bad('Invalid job ID "%s". Job IDs must be alphanumeric (plus underscores and dashes) and must be '
                       'at most 1024 characters long.' % job_id)
        if ref.get("projectId") and ref["projectId"] != p:
            raise _bad("Project ID in the job reference (%s) does not match the project in the request path (%s)."
                       % (ref["projectId"], p))
        location = ref.get("location") or "US"
        self._validate_config(cfg, p)
        if cfg.get("dryRun"):
            return self._dry_run_job(p, cfg, location, token)
        with self.lock:
            if (p, job_id) in self.jobs:
                self.counters["job_inserts_duplicate"] += 1
                raise GoogleError(409, "Already Exists: Job %s:%s.%s" % (p, self.jobs[(p, job_id)].location, job_id),
                                  "duplicate")
            job = Job(p, job_id, location, cfg, token["account"], token["scopes"], self.timing)
            self.jobs[(p, job_id)] = job
            self.counters["job_inserts_accepted"] += 1
            job.state = "RUNNING" if job.duration == 0 else "PENDING"
            job.started = now_ms() if job.duration == 0 else None
        return json_response(self.job_resource(job))

    def _dry_run_job(self, p, cfg, location, token):
        self.counters["dry_runs"] += 1
        stats = {"creationTime": str(now_ms())}
        if "query" in cfg:
            q = cfg["query"]
            try:
                self._check_legacy(q)
                plan = bigquery_sql.run_query(self.store, q["query"], q, p, dry_run=True)
            except JobError as e:
                raise GoogleError(REASON_HTTP.get(e.reason, 400), e.message, e.reason, location=e.location)
            stats.update({"totalBytesProcessed": str(plan["bytes"]),
                          "query": {"totalBytesProcessed": str(plan["bytes"]), "totalBytesBilled": "0",
                                    "cacheHit": False, "statementType": "SELECT",
                                    "referencedTables": [{"projectId": m["project"], "datasetId": m["dataset"],
                                                          "tableId": m["table"]} for m in plan["tables"]]}})
        cfg = json.loads(json.dumps(cfg))
        cfg["jobType"] = "QUERY" if "query" in cfg else "LOAD"
        return json_response({"kind": "bigquery#job", "etag": "", "configuration": cfg,
                              "jobReference": {"projectId": p, "location": location},
                              "statistics": stats, "status": {"state": "DONE"},
                              "user_email": token["account"], "principal_subject": "serviceAccount:" + token["account"]})

    def jobs_get(self, p, args, query, body, token):
        job = self._get_job(p, args[0], query)
        self.observe(job, poll=True)
        return json_response(self.job_resource(job))

    def jobs_list(self, p, args, query, body, token):
        self._project(p)
        states = {s.upper() for s in query.get("stateFilter", [])}
        with self.lock:
            jobs = [j for j in self.jobs.values() if j.project == p]
        jobs.sort(key=lambda j: -j.created)
        out = []
        for j in jobs:
            self.observe(j, poll=False)
            if states and j.state not in states:
                continue
            r = self.job_resource(j)
            r["state"] = j.state
            if j.error:
                r["errorResult"] = j.error
            out.append(r)
        return json_response({"kind": "bigquery#jobList", "etag": "", "jobs": out})

    def jobs_cancel(self, p, args, query, body, token):
        job = self._get_job(p, args[0], query)
        with job.lock:
            if job.state != "DONE":
                job.state = "DONE"
                job.error = {"reason": "stopped", "message": "Job execution was cancelled: User requested cancellation"}
                job.errors = [job.error]
                job.ended = now_ms()
                job.started = job.started or job.ended
                self.counters["jobs_cancelled"] += 1
        return json_response({"kind": "bigquery#jobCancelResponse", "job": self.job_resource(job)})

    def force_state(self, job_id, spec):
        with self.lock:
            job = next((j for (p, i), j in self.jobs.items() if i == job_id), None)
        if job is None:
            raise GoogleError(404, "Not found: Job %s" % job_id, "notFound")
        if "hold" in spec:
            job.hold = bool(spec["hold"])
        if "fail" in spec:
            job.forced = spec["fail"] or {"reason": "backendError", "message": "Forced failure by the test"}
        if "duration_s" in spec:
            job.duration = float(spec["duration_s"])
        if spec.get("state") == "DONE":
            job.hold = False
            job.duration = 0
            self.complete(job)
        elif spec.get("state") == "RUNNING":
            job.state = "RUNNING"
            job.started = job.started or now_ms()
        return self.job_resource(job)

    # ---- results --------------------------------------------------------------------------------
    def _failed(self, job):
        e = job.error
        return GoogleError(REASON_HTTP.get(e["reason"], 400), e["message"], e["reason"], location=e.get("location"),
                           extra_errors=[x for x in (job.errors or []) if x is not e and x != e])

    def _page(self, job, query_or_req, first=False):
        schema, rows = job.result
        def qv(name, default=None):
            if isinstance(query_or_req, dict) and not first:
                v = query_or_req.get(name)
                return v[0] if v else default
            return default
        int64_ts = (qv("formatOptions.useInt64Timestamp", "false").lower() == "true") if not first else \
            bool((query_or_req.get("formatOptions") or {}).get("useInt64Timestamp"))
        max_results = qv("maxResults") if not first else query_or_req.get("maxResults")
        start = 0
        token = qv("pageToken")
        if token:
            try:
                jid, off = base64.urlsafe_b64decode(token.encode()).decode().rsplit(":", 1)
                if jid != job.id:
                    raise ValueError
                start = int(off)
            except Exception:
                raise _bad("Invalid page token: %s" % token)
        elif qv("startIndex"):
            start = int(qv("startIndex"))
        limit = int(max_results) if max_results not in (None, "") else 100000
        if limit <= 0:
            limit = 100000
        page = rows[start:start + limit]
        out = {"schema": {"fields": bq_types.schema_out(schema)}, "totalRows": str(len(rows))}
        if page:
            out["rows"] = [{"f": [{"v": bq_types.encode_cell(f, v, int64_ts)} for f, v in zip(schema, r)]} for r in page]
        if start + limit < len(rows):
            out["pageToken"] = base64.urlsafe_b64encode(("%s:%d" % (job.id, start + limit)).encode()).decode()
        return out

    def get_query_results(self, p, args, query, body, token):
        job = self._get_job(p, args[0], query)
        if job.kind != "query":
            raise _bad("Job %s:%s.%s is not a query job." % (p, job.location, job.id))
        timeout = int(query.get("timeoutMs", ["10000"])[0]) / 1000.0
        done = self.wait(job, timeout)
        out = {"kind": "bigquery#getQueryResultsResponse", "etag": "", "jobReference": job.ref(),
               "jobComplete": done}
        if not done:
            return json_response(out)
        if job.error:
            raise self._failed(job)
        out.update(self._page(job, query))
        out["totalBytesProcessed"] = job.stats.get("totalBytesProcessed", "0")
        out["cacheHit"] = False
        return json_response(out)

    def jobs_query(self, p, args, query, body, token):
        self._project(p, write=True)
        req = self._json(body, "QueryRequest", "query_request")
        if not req.get("query"):
            raise _bad("Required parameter is missing: query", "required")
        _check_query_length(req["query"])
        self.counters["queries_sync"] += 1
        qcfg = {k: req[k] for k in ("query", "useLegacySql", "queryParameters", "parameterMode", "defaultDataset",
                                    "maximumBytesBilled", "useQueryCache", "connectionProperties", "createSession")
                if k in req}
        location = req.get("location") or "US"
        if req.get("dryRun"):
            resp = self._dry_run_job(p, {"query": qcfg}, location, token).json
            return json_response({"kind": "bigquery#queryResponse", "jobComplete": True,
                                  "totalBytesProcessed": resp["statistics"].get("totalBytesProcessed", "0"),
                                  "cacheHit": False, "jobReference": {"projectId": p, "location": location}})
        rid = req.get("requestId")
        with self.lock:
            job = None
            if rid:
                if len(rid) > 36:
                    raise _bad("requestId must be at most 36 characters")
                seen = self.request_ids.get(rid)
                if seen and time.time() - seen[1] < 900:
                    job = self.jobs.get((p, seen[0]))
            if job is None:
                jid = "job_" + secrets.token_urlsafe(21).replace("-", "_")
                job = Job(p, jid, location, {"query": qcfg}, token["account"], token["scopes"], self.timing)
                self.jobs[(p, jid)] = job
                if rid:
                    self.request_ids[rid] = (jid, time.time())
        done = self.wait(job, int(req.get("timeoutMs", 10000)) / 1000.0)
        out = {"kind": "bigquery#queryResponse", "jobReference": job.ref(), "jobComplete": done}
        if not done:
            return json_response(out)
        if job.error:
            raise self._failed(job)
        out.update(self._page(job, req, first=True))
        out["totalBytesProcessed"] = job.stats.get("totalBytesProcessed", "0")
        out["cacheHit"] = False
        return json_response(out)

    # ---- datasets / tables --------------------------------------------------------------------
    def _dataset_res(self, p, d, info):
        return {"kind": "bigquery#dataset", "etag": "", "id": "%s:%s" % (p, d),
                "selfLink": "%s/bigquery/v2/projects/%s/datasets/%s" % (self.base_url(), p, d),
                "datasetReference": {"projectId": p, "datasetId": d}, "location": info["location"],
                "creationTime": str(info["created"]), "lastModifiedTime": str(info["created"]), "type": "DEFAULT"}

    def datasets_list(self, p, args, query, body, token):
        self._project(p)
        ds = self.store.list_datasets(p)
        out = {"kind": "bigquery#datasetList", "etag": ""}
        if ds:
            out["datasets"] = [{"kind": "bigquery#dataset", "id": "%s:%s" % (p, d), "location": "US",
                                "datasetReference": {"projectId": p, "datasetId": d}} for d in ds]
        return json_response(out)

    def datasets_insert(self, p, args, query, body, token):
        self._project(p)
        obj = self._json(body, "Dataset", "dataset")
        ref = obj.get("datasetReference") or {}
        if not ref.get("datasetId"):
            raise _bad("Required parameter is missing: datasetReference.datasetId", "required")
        self.store.create_dataset(p, ref["datasetId"], obj.get("location") or "US")
        return json_response(self._dataset_res(p, ref["datasetId"], self.store.dataset(p, ref["datasetId"])))

    def datasets_get(self, p, args, query, body, token):
        self._project(p)
        info = self.store.dataset(p, args[0])
        if not info:
            raise GoogleError(404, "Not found: Dataset %s:%s" % (p, args[0]), "notFound")
        return json_response(self._dataset_res(p, args[0], info))

    def datasets_delete(self, p, args, query, body, token):
        self._project(p)
        self.store.delete_dataset(p, args[0], query.get("deleteContents", ["false"])[0] == "true")
        return json_response(None, 204) if False else _empty()

    def _table_res(self, meta):
        p, d, t = meta["project"], meta["dataset"], meta["table"]
        res = {"kind": "bigquery#table", "etag": "", "id": "%s:%s.%s" % (p, d, t),
               "selfLink": "%s/bigquery/v2/projects/%s/datasets/%s/tables/%s" % (self.base_url(), p, d, t),
               "tableReference": {"projectId": p, "datasetId": d, "tableId": t},
               "schema": {"fields": bq_types.schema_out(meta["schema"])}, "numRows": str(meta["numRows"]),
               "numBytes": str(self.store.table_bytes(p, d, t)), "creationTime": str(meta["created"]),
               "lastModifiedTime": str(meta["modified"]), "type": "TABLE", "location": "US"}
        if meta["timePartitioning"]:
            res["timePartitioning"] = meta["timePartitioning"]
        if meta["clustering"]:
            res["clustering"] = meta["clustering"]
        return res

    def _table(self, p, d, t):
        self._project(p)
        if not self.store.dataset(p, d):
            raise GoogleError(404, "Not found: Dataset %s:%s" % (p, d), "notFound")
        base, dec = split_decorator(t)
        meta = self.store.table(p, d, base)
        if meta is None:
            raise GoogleError(404, "Not found: Table %s:%s.%s" % (p, d, base), "notFound")
        return meta, dec

    def tables_list(self, p, args, query, body, token):
        self._project(p)
        if not self.store.dataset(p, args[0]):
            raise GoogleError(404, "Not found: Dataset %s:%s" % (p, args[0]), "notFound")
        ts = self.store.list_tables(p, args[0])
        out = {"kind": "bigquery#tableList", "etag": "", "totalItems": len(ts)}
        if ts:
            out["tables"] = [{"kind": "bigquery#table", "id": "%s:%s.%s" % (p, args[0], t), "type": "TABLE",
                              "tableReference": {"projectId": p, "datasetId": args[0], "tableId": t}} for t in ts]
        return json_response(out)

    def tables_insert(self, p, args, query, body, token):
        self._project(p)
        obj = self._json(body, "Table", "table")
        ref = obj.get("tableReference") or {}
        ref.setdefault("datasetId", args[0])
        self._validate_table_ref(ref, "tableReference", p, allow_decorator=False)
        if not self.store.dataset(p, ref["datasetId"]):
            raise GoogleError(404, "Not found: Dataset %s:%s" % (p, ref["datasetId"]), "notFound")
        if self.store.table(p, ref["datasetId"], ref["tableId"]):
            raise GoogleError(409, "Already Exists: Table %s:%s.%s" % (p, ref["datasetId"], ref["tableId"]), "duplicate")
        try:
            schema = bq_types.normalize_schema((obj.get("schema") or {}).get("fields") or [])
        except bq_types.BadValue as e:
            raise _bad(str(e))
        try:
            self.store._check_tp(obj.get("timePartitioning"), schema)
        except JobError as e:
            raise _bad(e.message)
        self.store.create_table(p, ref["datasetId"], ref["tableId"], schema, obj.get("timePartitioning"),
                                obj.get("clustering"))
        return json_response(self._table_res(self.store.table(p, ref["datasetId"], ref["tableId"])))

    def tables_get(self, p, args, query, body, token):
        meta, _ = self._table(p, args[0], args[1])
        return json_response(self._table_res(meta))

    def tables_delete(self, p, args, query, body, token):
        meta, dec = self._table(p, args[0], args[1])
        if dec:
            from .bq_store import qi, phys
            with self.store.lock:
                self.store.conn.execute("DELETE FROM %s WHERE __pid=?" % qi(phys(p, args[0], meta["table"])), (dec,))
        else:
            self.store.delete_table(p, args[0], args[1])
        return _empty()

    def tabledata_list(self, p, args, query, body, token):
        meta, dec = self._table(p, args[0], args[1])
        from .bq_store import qi, phys
        cols = ", ".join(qi(f["name"]) for f in meta["schema"]) or "NULL"
        where, params = ("WHERE __pid=?", (dec,)) if dec else ("", ())
        with self.store.lock:
            rows = [list(r) for r in self.store.conn.execute("SELECT %s FROM %s %s ORDER BY rowid" % (
                cols, qi(phys(p, args[0], meta["table"])), where), params)]
        schema = meta["schema"]
        sel = query.get("selectedFields", [None])[0]
        if sel:
            names = [s.strip().lower() for s in sel.split(",")]
            idx = [i for i, f in enumerate(schema) if f["name"].lower() in names]
            schema = [schema[i] for i in idx]
            rows = [[r[i] for i in idx] for r in rows]
        fake_job = type("J", (), {"result": (schema, rows), "id": "td-%s.%s" % (args[0], args[1])})()
        page = self._page(fake_job, query)
        out = {"kind": "bigquery#tableDataList", "etag": "", "totalRows": page["totalRows"]}
        if "rows" in page:
            out["rows"] = page["rows"]
        if "pageToken" in page:
            out["pageToken"] = page["pageToken"]
        return json_response(out)


def _empty():
    from .util import Response
    return Response(204, b"", content_type=None)
