"""A small GoogleSQL → SQLite rewriter and the query executor (see README.md, "GoogleSQL subset").

Pipeline: lex → nest parentheses into groups → pass 1 (CTE names, FROM items: tables, UNNEST, aliases)
→ pass 2 (emit SQLite SQL) → execute → infer the result schema → rows in storage form.
Anything outside the subset raises JobError("invalidQuery", "... the BigQuery stand-in does not support ...").
Name resolution is global to the statement (not scoped): good enough for the analytics queries of the DAGs.
"""
import json
import re
import sqlite3

from . import bq_functions, bq_types
from .bq_store import JobError, phys, qi, split_decorator
from .bq_types import BadValue

UNSUPPORTED = "The BigQuery stand-in does not support "


class Unsupported(JobError):
    def __init__(self, what):
        super().__init__("invalidQuery", UNSUPPORTED + what + " (tests/fakes/README.md lists the supported subset).",
                         location="query")


def syntax(msg):
    return JobError("invalidQuery", "Syntax error: " + msg, location="query")


class Tok:
    __slots__ = ("kind", "text", "value", "pos")

    def __init__(self, kind, text, value=None, pos=0):
        self.kind, self.text, self.value, self.pos = kind, text, value, pos

    def up(self):
        return self.text.upper() if self.kind == "id" else None

    def __repr__(self):
        return "Tok(%s,%r)" % (self.kind, self.text)


class Group:
    def __init__(self, items, pos):
        self.items, self.pos = items, pos
        self.kind = "group"

    def up(self):
        return None

    def __repr__(self):
        return "Group(%r)" % self.items


_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "`": "`", "0": "\0", "a": "\a",
        "b": "\b", "f": "\f", "v": "\v", "?": "?"}
MULTI_OPS = ("<=", ">=", "<>", "!=", "||", "<<", ">>", "=>")


def lex(sql):
    toks, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
            continue
        if sql.startswith("--", i) or c == "#":
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            if j < 0:
                raise syntax("Unclosed comment at [%s]" % _loc(sql, i))
            i = j + 2
            continue
        m = re.match(r"(?i)(r|b|rb|br)?('''|\"\"\"|'|\")", sql[i:])
        if m and (m.group(1) is None or True) and (c in "'\"" or m.group(1)):
            prefix = (m.group(1) or "").lower()
            q = m.group(2)
            j = i + len(m.group(0))
            buf = []
            while True:
                if j >= n:
                    raise syntax("Unclosed string literal at [%s]" % _loc(sql, i))
                if sql.startswith(q, j):
                    j += len(q)
                    break
                ch = sql[j]
                if ch == "\\" and "r" not in prefix:
                    nx = sql[j + 1] if j + 1 < n else ""
                    if nx in _ESC:
                        buf.append(_ESC[nx])
                        j += 2
                        continue
                    if nx in "xX" or nx in "uU":
                        hexlen = 2 if nx in "xX" else (4 if nx == "u" else 8)
                        buf.append(chr(int(sql[j + 2:j + 2 + hexlen], 16)))
                        j += 2 + hexlen
                        continue
                    raise syntax("Illegal escape sequence: \\%s" % nx)
                if ch == "\n" and len(q) == 1:
                    raise syntax("Unclosed string literal at [%s]" % _loc(sql, i))
                if ch == "\\" and "r" in prefix and j + 1 < n:
                    buf.append(sql[j:j + 2])
                    j += 2
                    continue
                buf.append(ch)
                j += 1
            toks.append(Tok("bytes" if "b" in prefix else "str", sql[i:j], "".join(buf), i))
            i = j
            continue
        if c == "`":
            j = sql.find("`", i + 1)
            if j < 0:
                raise syntax("Unclosed identifier literal at [%s]" % _loc(sql, i))
            toks.append(Tok("qid", sql[i:j + 1], sql[i + 1:j], i))
            i = j + 1
            continue
        m = re.match(r"(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|0[xX][0-9a-fA-F]+)", sql[i:])
        if m and (c.isdigit() or (c == "." and i + 1 < n and sql[i + 1].isdigit())):
            toks.append(Tok("num", m.group(0), None, i))
            i += len(m.group(0))
            continue
        m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", sql[i:])
        if m:
            toks.append(Tok("id", m.group(0), None, i))
            i += len(m.group(0))
            continue
        if c == "@":
            if sql.startswith("@@", i):
                raise Unsupported("system variables (@@...)")
            m = re.match(r"@([A-Za-z_][A-Za-z0-9_]*|`[^`]+`)", sql[i:])
            if not m:
                raise syntax("Unexpected \"@\" at [%s]" % _loc(sql, i))
            toks.append(Tok("param", m.group(0), m.group(1).strip("`"), i))
            i += len(m.group(0))
            continue
        if c == "?":
            toks.append(Tok("qmark", "?", None, i))
            i += 1
            continue
        if c in "[]{}":
            raise Unsupported("array literals, subscripts or braces (%r at [%s])" % (c, _loc(sql, i)))
        op = next((o for o in MULTI_OPS if sql.startswith(o, i)), c)
        toks.append(Tok(op if op in "(),;" else "op", op, None, i))
        i += len(op)
    return toks


def _loc(sql, i):
    line = sql.count("\n", 0, i) + 1
    col = i - (sql.rfind("\n", 0, i) + 1) + 1
    return "%d:%d" % (line, col)


def nest(toks, sql):
    stack = [[]]
    opens = []
    for t in toks:
        if t.kind == "(":
            stack.append([])
            opens.append(t.pos)
        elif t.kind == ")":
            if len(stack) == 1:
                raise syntax("Unexpected \")\" at [%s]" % _loc(sql, t.pos))
            items = stack.pop()
            stack[-1].append(Group(items, opens.pop()))
        else:
            stack[-1].append(t)
    if len(stack) != 1:
        raise syntax("Expected \")\" but got end of statement")
    items = stack[0]
    while items and items[-1].kind == ";":
        items.pop()
    if any(t.kind == ";" for t in items):
        raise Unsupported("multi-statement scripts")
    return items


CLAUSE_END = {"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "INTERSECT", "EXCEPT", "WINDOW", "QUALIFY",
              "SELECT", "ON", "USING", "OFFSET"}
JOIN_WORDS = {"JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "OUTER", "NATURAL"}
NOT_ALIAS = CLAUSE_END | JOIN_WORDS | {"FROM", "AS", "WITH", "FOR", "TABLESAMPLE", "PIVOT", "UNPIVOT", "AND", "OR"}
# SQLite keywords that GoogleSQL allows as plain identifiers: quoted when emitted.
SQLITE_ONLY_KEYWORDS = set("""ABORT ACTION ADD AFTER ALWAYS ANALYZE ATTACH AUTOINCREMENT BEFORE CASCADE CHECK COLUMN
CONFLICT CONSTRAINT DATABASE DEFERRABLE DEFERRED DETACH DO EACH EXCLUSIVE FAIL FILTER FIRST GENERATED GLOB IMMEDIATE
INDEX INDEXED INITIALLY INSTEAD ISNULL KEY LAST MATCH MATERIALIZED NO NOTNULL NOTHING OF OFFSET OTHERS PLAN PRAGMA
QUERY RAISE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING ROW SAVEPOINT TEMP TEMPORARY TIES
TRANSACTION TRIGGER VACUUM VIEW VIRTUAL WITHOUT""".split())
NOT_FUNC = {"AS", "IN", "AND", "OR", "NOT", "ON", "USING", "FROM", "WHERE", "SELECT", "OVER", "WHEN", "THEN", "ELSE",
            "BY", "JOIN", "WITH", "IS", "UNION", "ALL", "DISTINCT", "VALUES", "LIKE", "BETWEEN", "CASE", "END",
            "HAVING", "LIMIT", "OFFSET", "INTERSECT", "EXCEPT", "PARTITION", "ORDER", "GROUP", "ROWS", "RANGE",
            "PRECEDING", "FOLLOWING", "CURRENT", "UNBOUNDED", "ASC", "DESC", "NULLS", "LEFT", "RIGHT", "INNER",
            "OUTER", "CROSS", "FULL", "WINDOW", "NULL", "TRUE", "FALSE"}
UNSUPPORTED_WORDS = {"STRUCT": "STRUCT", "PIVOT": "PIVOT", "UNPIVOT": "UNPIVOT", "QUALIFY": "QUALIFY",
                     "TABLESAMPLE": "TABLESAMPLE", "RECURSIVE": "recursive CTEs", "MERGE": "MERGE",
                     "INSERT": "DML (INSERT)", "UPDATE": "DML (UPDATE)", "DELETE": "DML (DELETE)",
                     "CREATE": "DDL (CREATE)", "DROP": "DDL (DROP)", "ALTER": "DDL (ALTER)", "DECLARE": "scripting",
                     "BEGIN": "scripting", "CALL": "procedures", "EXECUTE": "EXECUTE IMMEDIATE",
                     "ASSERT": "ASSERT", "EXPORT": "EXPORT DATA", "TRUNCATE": "TRUNCATE TABLE", "LOAD": "LOAD DATA",
                     "COLLATE": "COLLATE", "ROLLUP": "GROUP BY ROLLUP", "CUBE": "GROUP BY CUBE",
                     "GROUPING": "GROUPING SETS", "REPLACE_FIELDS": "REPLACE_FIELDS"}

PASS = {"COUNT": "count", "SUM": "sum", "AVG": "avg", "MIN": "min", "MAX": "max", "COALESCE": "coalesce",
        "IFNULL": "ifnull", "NULLIF": "nullif", "ABS": "abs", "ROUND": "round", "LOWER": "lower", "UPPER": "upper",
        "LENGTH": "length", "CHAR_LENGTH": "length", "CHARACTER_LENGTH": "length", "TRIM": "trim", "LTRIM": "ltrim",
        "RTRIM": "rtrim", "REPLACE": "replace", "SUBSTR": "substr", "SUBSTRING": "substr", "ROW_NUMBER": "row_number",
        "RANK": "rank", "DENSE_RANK": "dense_rank", "LAG": "lag", "LEAD": "lead", "FIRST_VALUE": "first_value",
        "LAST_VALUE": "last_value", "NTILE": "ntile", "PERCENT_RANK": "percent_rank", "CUME_DIST": "cume_dist",
        "GREATEST": "max", "LEAST": "min", "SIGN": "sign", "CEIL": "ceil", "CEILING": "ceil", "FLOOR": "floor",
        "SQRT": "sqrt", "POW": "pow", "POWER": "pow", "LN": "ln", "LOG10": "log10", "EXP": "exp",
        "LOGICAL_AND": "min", "LOGICAL_OR": "max", "ANY_VALUE": "min", "STRING_AGG": "group_concat",
        "STRPOS": "instr", "IF": "iif", "EXISTS": "exists"}
UDF = set(bq_functions.FUNCS) - {"nz", "cast", "extract"}
INTERVAL_FUNCS = {"DATE_ADD", "DATE_SUB", "TIMESTAMP_ADD", "TIMESTAMP_SUB"}
PART_ARG = {"DATE_TRUNC": 1, "TIMESTAMP_TRUNC": 1, "DATE_DIFF": 2, "TIMESTAMP_DIFF": 2}
ALIAS_FN = {"JSON_EXTRACT_SCALAR": "json_value", "JSON_VALUE": "json_value"}

T_DATE = {"DATE", "DATE_TRUNC", "DATE_ADD", "DATE_SUB", "PARSE_DATE", "CURRENT_DATE"}
T_TS = {"TIMESTAMP", "TIMESTAMP_TRUNC", "TIMESTAMP_ADD", "TIMESTAMP_SUB", "TIMESTAMP_MICROS", "TIMESTAMP_MILLIS",
        "TIMESTAMP_SECONDS", "PARSE_TIMESTAMP", "CURRENT_TIMESTAMP"}
T_INT = {"COUNT", "COUNTIF", "DATE_DIFF", "TIMESTAMP_DIFF", "UNIX_SECONDS", "UNIX_MILLIS", "UNIX_MICROS",
         "UNIX_DATE", "ROW_NUMBER", "RANK", "DENSE_RANK", "NTILE", "LENGTH", "CHAR_LENGTH", "CHARACTER_LENGTH",
         "STRPOS", "DIV"}
T_FLOAT = {"AVG", "SAFE_DIVIDE", "ROUND", "PERCENT_RANK", "CUME_DIST", "SQRT", "POW", "POWER", "LN", "LOG10", "EXP"}
T_STR = {"FORMAT_DATE", "FORMAT_TIMESTAMP", "CONCAT", "LOWER", "UPPER", "TRIM", "LTRIM", "RTRIM", "REPLACE", "SUBSTR",
         "SUBSTRING", "STRING_AGG", "REGEXP_EXTRACT", "REGEXP_REPLACE", "JSON_VALUE", "JSON_EXTRACT_SCALAR"}
T_BOOL = {"STARTS_WITH", "ENDS_WITH", "REGEXP_CONTAINS", "LOGICAL_AND", "LOGICAL_OR"}
T_SAME = {"MIN", "MAX", "ANY_VALUE", "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE"}
CAST_TYPES = {"INT64": "INTEGER", "INTEGER": "INTEGER", "FLOAT64": "FLOAT", "STRING": "STRING", "BOOL": "BOOLEAN",
              "BOOLEAN": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "DATETIME": "DATETIME", "TIME": "TIME",
              "NUMERIC": "NUMERIC", "BIGNUMERIC": "BIGNUMERIC", "DECIMAL": "NUMERIC", "BIGDECIMAL": "BIGNUMERIC"}
BOOL_OPS = {"=", "<", ">", "<=", ">=", "!=", "<>"}
BOOL_WORDS = {"AND", "OR", "NOT", "IS", "IN", "LIKE", "BETWEEN", "EXISTS"}


def _lit(s):
    return "'" + s.replace("'", "''") + "'"


def _q(name):
    # Backticks, not double quotes: SQLite reads a double-quoted name that resolves to no column as a string
    # literal (its DQS fallback), so `no_such_col` would quietly select the text 'no_such_col' where BigQuery
    # answers "Unrecognized name". A backticked name in SQLite is always an identifier.
    return "`" + name.replace("`", "``") + "`"


def _split_commas(items):
    out, cur = [], []
    for t in items:
        if t.kind == ",":
            out.append(cur)
            cur = []
        else:
            cur.append(t)
    out.append(cur)
    return out


class Rewriter:
    def __init__(self, store, project, default_dataset, params):
        self.store = store
        self.project = project
        self.default_dataset = default_dataset  # {"projectId","datasetId"} or None
        self.params = params  # name(lower) -> (bq_type_desc, python value); or list for positional
        self.ctes = set()
        self.from_items = {}  # id(token/group) -> info
        self.tables = []  # resolved table metas referenced
        self.aliases = {}  # alias lower -> table meta
        self.unnest = {}  # alias lower -> (sql alias, element field or None)
        self.offsets = {}  # offset alias lower -> sql alias
        self.columns = {}  # column name lower -> field (any referenced table)
        self.used_params = {}
        self.positional = 0
        self.n_unnest = 0
        self.sql = ""

    # ---- pass 1 ---------------------------------------------------------------------------
    def scan(self, items):
        for k, t in enumerate(items):
            if t.kind == "id" and t.up() == "WITH" and k + 1 < len(items):
                j = k + 1
                if items[j].kind == "id" and items[j].up() == "RECURSIVE":
                    raise Unsupported("recursive CTEs")
                while j + 2 < len(items) and items[j].kind in ("id", "qid") and items[j + 1].up() == "AS" \
                        and isinstance(items[j + 2], Group):
                    self.ctes.add((items[j].value or items[j].text).lower())
                    j += 3
                    if j < len(items) and items[j].kind == ",":
                        j += 1
                    else:
                        break
        for t in items:
            if isinstance(t, Group):
                self.scan_ctes(t.items)
        self._scan_from(items)

    def scan_ctes(self, items):
        for k, t in enumerate(items):
            if t.kind == "id" and t.up() == "WITH":
                j = k + 1
                while j + 2 < len(items) and items[j].kind in ("id", "qid") and items[j + 1].up() == "AS":
                    self.ctes.add((items[j].value or items[j].text).lower())
                    j += 3
                    if j < len(items) and items[j].kind == ",":
                        j += 1
                    else:
                        break
            if isinstance(t, Group):
                self.scan_ctes(t.items)

    def _scan_from(self, items):
        in_from, expect = False, False
        k = 0
        while k < len(items):
            t = items[k]
            u = t.up()
            if isinstance(t, Group):
                if expect:
                    self.from_items[id(t)] = {"kind": "subquery"}
                    expect = False
                if not (k > 0 and items[k - 1].up() == "EXTRACT"):
                    self._scan_from(t.items)
                k += 1
                continue
            if u == "FROM":
                in_from, expect = True, True
            elif u == "JOIN":
                in_from, expect = True, True
            elif u in CLAUSE_END and u != "OFFSET":
                in_from = expect = False
            elif t.kind == "," and in_from:
                expect = True
            elif expect and t.kind in ("id", "qid"):
                expect = False
                if u == "UNNEST" and k + 1 < len(items) and isinstance(items[k + 1], Group):
                    self._scan_from(items[k + 1].items)
                    k = self._scan_unnest(items, k)
                    continue
                k = self._scan_table(items, k)
                continue
            k += 1

    def _alias_after(self, items, j):
        """(alias or None, next index) for an optional [AS] alias at j."""
        if j < len(items) and items[j].up() == "AS":
            if j + 1 < len(items) and items[j + 1].kind in ("id", "qid"):
                return items[j + 1].value or items[j + 1].text, j + 2
            raise syntax("Expected alias after AS")
        if j < len(items) and items[j].kind in ("id", "qid") and (items[j].up() not in NOT_ALIAS):
            return items[j].value or items[j].text, j + 1
        return None, j

    def _scan_unnest(self, items, k):
        group = items[k + 1]
        alias, j = self._alias_after(items, k + 2)
        off_alias = None
        if j + 1 < len(items) and items[j].up() == "WITH" and items[j + 1].up() == "OFFSET":
            off_alias, j = self._alias_after(items, j + 2)
            off_alias = off_alias or "offset"
        elem = self._element_of(group.items)
        self.n_unnest += 1
        sql_alias = alias or "__u%d" % self.n_unnest
        info = {"kind": "unnest", "end": j, "alias": sql_alias, "named": alias is not None, "elem": elem,
                "offset": off_alias}
        self.from_items[id(items[k])] = info
        if alias:
            self.unnest[alias.lower()] = (sql_alias, elem)
        if off_alias:
            self.offsets[off_alias.lower()] = sql_alias
        return j

    def _element_of(self, arg_items):
        """Schema of the elements of UNNEST(arg): a field (mode NULLABLE) or None for scalars/params."""
        names = [t.value or t.text for t in arg_items if t.kind in ("id", "qid")]
        if not names or any(t.kind not in ("id", "qid", "op") for t in arg_items):
            return None
        f = self.columns.get(names[-1].lower())
        if f is None:
            # tables may be scanned later; resolved lazily in emit
            return {"lazy": names[-1].lower()}
        if f["mode"] != "REPEATED":
            raise JobError("invalidQuery", "Values referenced in UNNEST must be arrays. UNNEST contains expression "
                           "of type %s" % f["type"], location="query")
        return dict(f, mode="NULLABLE")

    def _scan_table(self, items, k):
        parts, j = [], k
        while j < len(items) and items[j].kind in ("id", "qid"):
            if items[j].kind == "qid":
                parts.extend(items[j].value.split("."))
            else:
                parts.append(items[j].text)
            if j + 1 < len(items) and items[j + 1].kind == "op" and items[j + 1].text == "." and \
                    j + 2 < len(items) and items[j + 2].kind in ("id", "qid"):
                j += 2
                continue
            j += 1
            break
        if j < len(items) and items[j].kind == "op" and items[j].text == "*" and items[j - 1].kind == "id":
            raise Unsupported("unquoted wildcard table names")
        if j + 1 < len(items) and items[j].up() == "FOR" and items[j + 1].up() == "SYSTEM_TIME":
            raise Unsupported("FOR SYSTEM_TIME AS OF")
        alias, end = self._alias_after(items, j)
        info = {"kind": "table", "end": end, "alias": alias}
        if len(parts) == 1 and parts[0].lower() in self.ctes:
            info["kind"] = "cte"
            info["name"] = parts[0]
            self.from_items[id(items[k])] = info
            return end
        if len(parts) == 1 and parts[0].lower() in self.aliases:
            raise Unsupported("implicit UNNEST of array paths in FROM (use UNNEST(...))")
        if len(parts) == 2 and parts[0].lower() in self.aliases:
            raise Unsupported("correlated array paths in FROM (write UNNEST(%s))" % ".".join(parts))
        if len(parts) == 3:
            p, d, t = parts
        elif len(parts) == 2:
            p, (d, t) = self.project, parts
        elif len(parts) == 1:
            if not self.default_dataset:
                raise JobError("invalidQuery", "Table \"%s\" must be qualified with a dataset (e.g. dataset.table)."
                               % parts[0], location="query")
            p, d, t = self.default_dataset.get("projectId", self.project), self.default_dataset["datasetId"], parts[0]
        else:
            raise JobError("invalidQuery", "Invalid table name: %s" % ".".join(parts), location="query")
        base, dec = split_decorator(t)
        if dec is not None:
            raise JobError("invalidQuery", "Invalid table name: `%s` Partition decorators are not supported in "
                           "GoogleSQL; filter on the partitioning column or _PARTITIONTIME." % ".".join(parts),
                           location="query")
        if base.endswith("*"):
            prefix = base[:-1]
            metas = [self.store.table(p, d, x) for x in self.store.list_tables(p, d) if x.startswith(prefix)]
            if not self.store.dataset(p, d):
                raise JobError("notFound", "Not found: Dataset %s:%s was not found in location US" % (p, d))
            if not metas:
                raise JobError("notFound", "Not found: Table %s:%s.%s was not found in location US" % (p, d, base))
            info.update(kind="wildcard", metas=metas, prefix=prefix, name=base)
            schema_meta = max(metas, key=lambda m: m["created"])
            self._add_table(schema_meta, alias or base, wildcard=True)
            for m in metas:
                self.tables.append(m)
        else:
            meta = self.store.table(p, d, base)
            if meta is None:
                if not self.store.dataset(p, d):
                    raise JobError("notFound", "Not found: Dataset %s:%s was not found in location US" % (p, d))
                raise JobError("notFound", "Not found: Table %s:%s.%s was not found in location US" % (p, d, base))
            info.update(meta=meta, name=base)
            self._add_table(meta, alias or base)
            self.tables.append(meta)
        self.from_items[id(items[k])] = info
        return end

    def _add_table(self, meta, alias, wildcard=False):
        self.aliases[alias.lower()] = meta
        for f in meta["schema"]:
            self.columns.setdefault(f["name"].lower(), f)

    # ---- pass 2 ---------------------------------------------------------------------------------
    def emit(self, items, implicit=None):
        out, k = [], 0
        implicit = list(implicit or [])
        # unaliased UNNEST at this level provide implicit element fields
        for t in items:
            info = self.from_items.get(id(t))
            if info and info["kind"] == "unnest" and not info["named"]:
                elem = self._resolve_elem(info)
                if elem and elem["type"] == "RECORD":
                    implicit.append((info["alias"], elem))
        while k < len(items):
            text, k = self.emit_unit(items, k, implicit)
            if text is not None:
                out.append(text)
        return " ".join(out)

    def _resolve_elem(self, info):
        elem = info["elem"]
        if elem and "lazy" in elem:
            f = self.columns.get(elem["lazy"])
            if f is None:
                return None
            if f["mode"] != "REPEATED":
                raise JobError("invalidQuery", "Values referenced in UNNEST must be arrays. UNNEST contains "
                               "expression of type %s" % f["type"], location="query")
            elem = info["elem"] = dict(f, mode="NULLABLE")
        return elem

    def emit_unit(self, items, k, implicit):
        t = items[k]
        info = self.from_items.get(id(t))
        if info:
            return self.emit_from_item(items, k, info, implicit)
        if isinstance(t, Group):
            return "(" + self.emit(t.items, implicit) + ")", k + 1
        kind = t.kind
        if kind == "str":
            return _lit(t.value), k + 1
        if kind == "bytes":
            return "X'" + t.value.encode("latin-1", "replace").hex() + "'", k + 1
        if kind == "num":
            return t.text, k + 1
        if kind == "param":
            return self.emit_param(t), k + 1
        if kind == "qmark":
            return self.emit_positional(), k + 1
        if kind == ",":
            return ",", k + 1
        if kind == "op":
            if t.text == "/":
                nxt, j = self.emit_operand(items, k + 1, implicit)
                return "* 1.0 / bq_nz(%s)" % nxt, j
            if t.text == "*" and k + 2 < len(items) and items[k + 1].up() in ("EXCEPT", "REPLACE") and \
                    isinstance(items[k + 2], Group):
                raise Unsupported("SELECT * %s (...)" % items[k + 1].up())
            return t.text, k + 1
        # identifiers / keywords
        u = t.up()
        if kind == "id":
            if u in UNSUPPORTED_WORDS:
                raise Unsupported(UNSUPPORTED_WORDS[u])
            if u == "ARRAY" and k + 1 < len(items) and (isinstance(items[k + 1], Group) or items[k + 1].text == "<"):
                raise Unsupported("ARRAY(...) subqueries and ARRAY<> types")
            if u == "INTERVAL":
                raise Unsupported("INTERVAL outside DATE_ADD/DATE_SUB/TIMESTAMP_ADD/TIMESTAMP_SUB")
            if u in ("UNION", "INTERSECT", "EXCEPT"):
                nx = items[k + 1].up() if k + 1 < len(items) else None
                if nx == "ALL" and u == "UNION":
                    return "UNION ALL", k + 2
                if nx == "DISTINCT":
                    return u, k + 2
                raise syntax("Expected keyword ALL or keyword DISTINCT but got %s" % (nx or "end of statement"))
            if u == "SELECT" and k + 2 < len(items) and items[k + 1].up() == "AS" and \
                    items[k + 2].up() in ("STRUCT", "VALUE"):
                raise Unsupported("SELECT AS STRUCT/VALUE")
            if u in ("DATE", "TIMESTAMP", "DATETIME", "TIME", "NUMERIC", "BIGNUMERIC", "JSON") and \
                    k + 1 < len(items) and items[k + 1].kind == "str":
                return self.emit_typed_literal(u, items[k + 1].value), k + 2
            if u in ("CURRENT_DATE", "CURRENT_TIMESTAMP") and not (k + 1 < len(items) and isinstance(items[k + 1], Group)):
                return "bq_%s()" % u.lower(), k + 1
            if u == "IN" and k + 2 < len(items) and items[k + 1].up() == "UNNEST" and isinstance(items[k + 2], Group):
                return "IN (SELECT value FROM json_each(%s))" % self.emit(items[k + 2].items, implicit), k + 3
        if kind in ("id", "qid"):
            if k > 0 and items[k - 1].kind == "id" and items[k - 1].up() == "AS":  # an alias, never a reference
                return _q(t.value if kind == "qid" else t.text), k + 1
            return self.emit_chain(items, k, implicit)
        return t.text, k + 1

    def emit_operand(self, items, k, implicit):
        prefix = ""
        while k < len(items) and items[k].kind == "op" and items[k].text in "+-":
            prefix += items[k].text
            k += 1
        if k >= len(items):
            raise syntax("Unexpected end of expression after /")
        text, j = self.emit_unit(items, k, implicit)
        return prefix + text, j

    def emit_typed_literal(self, typ, s):
        try:
            if typ == "DATE":
                return _lit(bq_types.parse_date(s))
            if typ == "TIMESTAMP":
                return _lit(bq_types.ts_store(bq_types.parse_timestamp_dt(s)))
            if typ == "DATETIME":
                return _lit(bq_types.parse_datetime(s))
            if typ == "TIME":
                return _lit(bq_types.parse_time(s))
            if typ in ("NUMERIC", "BIGNUMERIC"):
                return repr(float(s))
            if typ == "JSON":
                json.loads(s)
                return _lit(s)
        except (BadValue, ValueError):
            raise JobError("invalidQuery", "Invalid %s literal: %s" % (typ, s), location="query")

    def emit_from_item(self, items, k, info, implicit):
        kind = info["kind"]
        if kind == "subquery":
            return "(" + self.emit(items[k].items, implicit) + ")", k + 1
        if kind == "cte":
            a = info["alias"]
            return _q(info["name"]) + (" AS " + _q(a) if a else ""), info["end"]
        if kind == "unnest":
            arg = self.emit(items[k + 1].items, implicit)
            return "json_each(%s) AS %s" % (arg, _q(info["alias"])), info["end"]
        alias = info["alias"] or info["name"]
        text = self.pql = None
        if kind == "table":
            text = self._table_select(info["meta"])
        else:
            schema = max(info["metas"], key=lambda m: m["created"])["schema"]
            parts = []
            for m in info["metas"]:
                have = {f["name"].lower() for f in m["schema"]}
                cols = ", ".join(qi(f["name"]) if f["name"].lower() in have else "NULL AS %s" % qi(f["name"])
                                 for f in schema)
                parts.append("SELECT %s, %s AS _TABLE_SUFFIX FROM %s" % (
                    cols, _lit(m["table"][len(info["prefix"]):]), qi(phys(m["project"], m["dataset"], m["table"]))))
            text = " UNION ALL ".join(parts)
        return "(%s) AS %s" % (text, _q(alias)), info["end"]

    def _table_select(self, meta):
        cols = [qi(f["name"]) for f in meta["schema"]]
        tp = meta.get("timePartitioning")
        if tp and not tp.get("field") and re.search(r"(?i)_PARTITION(TIME|DATE)", self.sql):
            cols.append("bq_partition_time(__pid) AS _PARTITIONTIME")
            cols.append("substr(bq_partition_time(__pid), 1, 10) AS _PARTITIONDATE")
        return "SELECT %s FROM %s" % (", ".join(cols) or "1", qi(phys(meta["project"], meta["dataset"], meta["table"])))

    def emit_param(self, t):
        if isinstance(self.params, list):
            raise JobError("invalidQuery", "Named parameters are not supported with parameterMode POSITIONAL "
                           "(found @%s)" % t.value, location="query")
        name = t.value.lower()
        if name not in self.params:
            raise JobError("invalidQuery", "Query parameter '%s' not found at [%s]" % (t.value, _loc(self.sql, t.pos)),
                           location="query")
        self.used_params[name] = self.params[name][1]
        return ":p_" + re.sub(r"\W", "_", name)

    def emit_positional(self):
        if not isinstance(self.params, list):
            raise JobError("invalidQuery", "Positional parameters are not supported with parameterMode NAMED",
                           location="query")
        if self.positional >= len(self.params):
            raise JobError("invalidQuery", "Query has more positional parameters than were provided "
                           "(%d)" % len(self.params), location="query")
        self.positional += 1
        return "?"

    def _chain(self, items, k):
        parts, j = [], k
        toks = []
        while j < len(items) and items[j].kind in ("id", "qid"):
            parts.append(items[j].value if items[j].kind == "qid" else items[j].text)
            toks.append(items[j])
            if j + 2 < len(items) and items[j + 1].kind == "op" and items[j + 1].text == "." and \
                    items[j + 2].kind in ("id", "qid"):
                j += 2
                continue
            j += 1
            break
        return parts, toks, j

    def emit_chain(self, items, k, implicit):
        if items[k].kind == "id" and items[k].up() in NOT_FUNC:
            return items[k].text, k + 1
        parts, toks, j = self._chain(items, k)
        if j < len(items) and isinstance(items[j], Group) and toks[-1].kind == "id":
            return self.emit_call(parts, items[j], implicit), j + 1
        if j < len(items) and items[j].kind == "op" and items[j].text == "." and j + 1 < len(items) and \
                items[j + 1].kind == "op" and items[j + 1].text == "*":
            return ".".join(_q(p) if t.kind == "qid" else p for p, t in zip(parts, toks)) + ".*", j + 2
        return self.resolve_path(parts, toks, implicit), j

    def resolve_path(self, parts, toks, implicit):
        low = [p.lower() for p in parts]
        p0 = low[0]
        if len(parts) == 1 and toks[0].kind == "id" and toks[0].up() in ("TRUE", "FALSE", "NULL"):
            return toks[0].up()
        if p0 in self.unnest and p0 not in self.columns:
            sql_alias, _ = self.unnest[p0]
            base = "%s.value" % _q(sql_alias)
            return base if len(parts) == 1 else "json_extract(%s, %s)" % (base, _lit("$." + ".".join(parts[1:])))
        if p0 in self.offsets and len(parts) == 1:
            return "%s.key" % _q(self.offsets[p0])
        for sql_alias, elem in implicit:
            names = {f["name"].lower() for f in elem.get("fields", [])}
            if p0 in names and p0 not in self.aliases:
                return "json_extract(%s.value, %s)" % (_q(sql_alias), _lit("$." + ".".join(parts)))
        if p0 in self.aliases and len(parts) >= 3:
            f = next((f for f in self.aliases[p0]["schema"] if f["name"].lower() == low[1]), None)
            if f and f["type"] == "RECORD":
                return "json_extract(%s.%s, %s)" % (_q(parts[0]), _q(f["name"]), _lit("$." + ".".join(parts[2:])))
        if p0 not in self.aliases and len(parts) >= 2:
            f = self.columns.get(p0)
            if f and f["type"] == "RECORD":
                return "json_extract(%s, %s)" % (_q(f["name"]), _lit("$." + ".".join(parts[1:])))
        if len(parts) > 2:
            raise Unsupported("the path expression %s" % ".".join(parts))
        return ".".join(_q(p) if t.kind == "qid" or p.upper() in SQLITE_ONLY_KEYWORDS else p
                        for p, t in zip(parts, toks))

    def emit_call(self, parts, group, implicit):
        name = ".".join(parts).upper()
        safe = False
        if name.startswith("SAFE."):
            safe, name = True, name[5:]
        args = group.items
        if name in ("CAST", "SAFE_CAST"):
            safe = safe or name == "SAFE_CAST"
            idx = next((i for i, t in enumerate(args) if t.up() == "AS"), None)
            if idx is None or idx + 1 >= len(args):
                raise syntax("Expected keyword AS in CAST")
            typ = " ".join(t.text for t in args[idx + 1:] if not isinstance(t, Group)).upper()
            if typ not in CAST_TYPES and not any(isinstance(t, Group) for t in args[idx + 1:]):
                raise Unsupported("CAST to %s" % typ)
            typ = args[idx + 1].text.upper()
            if typ not in CAST_TYPES:
                raise Unsupported("CAST to %s" % typ)
            return "bq_%scast(%s, %s)" % ("safe_" if safe else "", self.emit(args[:idx], implicit), _lit(typ))
        if name == "EXTRACT":
            idx = next((i for i, t in enumerate(args) if t.up() == "FROM"), None)
            if idx != 1 or args[0].kind != "id":
                raise Unsupported("this form of EXTRACT")
            rest = args[idx + 1:]
            at = next((i for i, t in enumerate(rest) if t.up() == "AT"), None)
            if at is not None:
                raise Unsupported("EXTRACT ... AT TIME ZONE")
            return "bq_%sextract(%s, %s)" % ("safe_" if safe else "", _lit(args[0].text.upper()),
                                              self.emit(rest, implicit))
        if name == "COUNTIF":
            return "count(CASE WHEN (%s) THEN 1 END)" % self.emit(args, implicit)
        if name == "UNNEST":
            raise Unsupported("UNNEST outside FROM or IN UNNEST(...)")
        if name in INTERVAL_FUNCS:
            pieces = _split_commas(args)
            if len(pieces) != 2 or not pieces[1] or pieces[1][0].up() != "INTERVAL" or len(pieces[1]) < 3:
                raise syntax("%s expects (expression, INTERVAL n part)" % name)
            unit = pieces[1][-1]
            return "bq_%s%s(%s, %s, %s)" % ("safe_" if safe else "", name.lower(), self.emit(pieces[0], implicit),
                                             self.emit(pieces[1][1:-1], implicit), _lit(unit.text.upper()))
        if name in PART_ARG:
            pieces = _split_commas(args)
            pos = PART_ARG[name]
            if len(pieces) > pos:
                pt = pieces[pos]
                if len(pt) == 1 and pt[0].kind == "id":
                    pieces[pos] = [Tok("str", pt[0].text, pt[0].text.upper())]
                elif len(pt) == 2 and pt[0].kind == "id" and isinstance(pt[1], Group) and len(pt[1].items) == 1:
                    pieces[pos] = [Tok("str", "", "%s(%s)" % (pt[0].text.upper(), pt[1].items[0].text.upper()))]
            return "bq_%s%s(%s)" % ("safe_" if safe else "", name.lower(),
                                    ", ".join(self.emit(p, implicit) for p in pieces))
        if name in ALIAS_FN:
            return "bq_%s%s(%s)" % ("safe_" if safe else "", ALIAS_FN[name], self.emit(args, implicit))
        if name.lower() in UDF:
            return "bq_%s%s(%s)" % ("safe_" if safe else "", name.lower(), self.emit(args, implicit))
        if name in PASS and not safe:
            if name == "STRING_AGG" and any(t.up() in ("ORDER", "LIMIT") for t in args):
                raise Unsupported("STRING_AGG with ORDER BY/LIMIT")
            if name in ("SUBSTR", "SUBSTRING"):
                pieces = _split_commas(args)
                if len(pieces) >= 2 and pieces[1] and pieces[1][0].kind == "op" and pieces[1][0].text == "-":
                    pass  # negative positions have the same meaning in SQLite
            return "%s(%s)" % (PASS[name], self.emit(args, implicit))
        raise Unsupported("the function %s" % ".".join(parts))

    # ---- select list: names + type hints ----------------------------------------------------------
    def main_select(self, items):
        """Insert output aliases into the outermost SELECT list; return [(name, hint)] or None for '*'."""
        k = 0
        if k < len(items) and items[k].up() == "WITH":
            k += 1
            while k + 2 < len(items) and items[k + 1].up() == "AS" and isinstance(items[k + 2], Group):
                k += 3
                if k < len(items) and items[k].kind == ",":
                    k += 1
                else:
                    break
        if k >= len(items) or items[k].up() != "SELECT":
            if k < len(items) and isinstance(items[k], Group):
                return None
            raise syntax("Expected SELECT or WITH at the start of the query" if k == 0 else "Expected SELECT")
        k += 1
        if k < len(items) and items[k].up() in ("DISTINCT", "ALL"):
            k += 1
        end = k
        while end < len(items) and not (items[end].up() in ("FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT",
                                                              "UNION", "INTERSECT", "EXCEPT", "WINDOW", "QUALIFY")):
            end += 1
        ranges, start = [], k
        for i in range(k, end + 1):
            if i == end or items[i].kind == ",":
                ranges.append((start, i))
                start = i + 1
        out, inserts, anon = [], [], 0
        for a, b in ranges:
            expr = items[a:b]
            if not expr:
                raise syntax("Unexpected \",\" in the select list")
            alias = None
            if len(expr) >= 3 and expr[-2].up() == "AS" and expr[-1].kind in ("id", "qid"):
                alias = expr[-1].value or expr[-1].text
                expr = expr[:-2]
            elif len(expr) >= 2 and expr[-1].kind in ("id", "qid") and expr[-1].up() not in NOT_ALIAS and \
                    not (expr[-2].kind == "op" and expr[-2].text == ".") and \
                    expr[-2].kind not in ("op",) and expr[-2].up() not in ("NOT", "IS", "AND", "OR", "CASE",
                                                                           "WHEN", "THEN", "ELSE", "END", "DISTINCT"):
                if not (expr[-1].up() == "END"):
                    alias = expr[-1].value or expr[-1].text
                    expr = expr[:-1]
            if any(t.kind == "op" and t.text == "*" and (len(expr) == 1 or (expr[-2].kind == "op" and expr[-2].text == "."))
                   for t in expr[-1:]):
                return None
            is_chain = all(t.kind in ("id", "qid") or (t.kind == "op" and t.text == ".") for t in expr) and \
                not (len(expr) == 1 and expr[0].kind == "id" and expr[0].up() in ("TRUE", "FALSE", "NULL",
                                                                               "CURRENT_DATE", "CURRENT_TIMESTAMP"))
            if alias is None:
                if is_chain:
                    alias = (expr[-1].value or expr[-1].text)
                else:
                    alias = "f%d_" % anon
                    anon += 1
                inserts.append(b)
            out.append((alias, expr))
        for pos, (alias, _) in sorted(zip(inserts, [o for o, r in zip(out, ranges) if r[1] in inserts]),
                                      key=lambda x: -x[0]):
            items[pos:pos] = [Tok("id", "AS"), Tok("qid", "`%s`" % alias, alias)]
        return out

    def hint(self, expr):
        """A result type hint from the select-list expression tokens (or None → tags/values decide)."""
        if not expr:
            return None
        first = expr[0]
        if len(expr) == 1:
            if first.kind == "str":
                return {"type": "STRING"}
            if first.kind == "num":
                return {"type": "FLOAT" if re.search(r"[.eE]", first.text) and not first.text.lower().startswith("0x")
                        else "INTEGER"}
            if first.kind == "qmark" and isinstance(self.params, list) and first.value is not None and \
                    first.value < len(self.params):
                p = self.params[first.value]
                return {"type": p[0]} if p[0] != "ARRAY" else None
            if first.kind == "param" and not isinstance(self.params, list):
                p = self.params.get(first.value.lower())
                return {"type": p[0]} if p and p[0] != "ARRAY" else None
            if first.up() in ("TRUE", "FALSE"):
                return {"type": "BOOLEAN"}
            if first.up() == "CURRENT_DATE":
                return {"type": "DATE"}
            if first.up() == "CURRENT_TIMESTAMP":
                return {"type": "TIMESTAMP"}
        if len(expr) == 2 and first.kind == "id" and expr[1].kind == "str" and first.up() in CAST_TYPES:
            return {"type": CAST_TYPES[first.up()]}
        if all(t.kind in ("id", "qid") or (t.kind == "op" and t.text == ".") for t in expr):
            parts = [t.value or t.text for t in expr if t.kind in ("id", "qid")]
            p0 = parts[0].lower()
            pseudo = {"_partitiontime": "TIMESTAMP", "_partitiondate": "DATE", "_table_suffix": "STRING"}
            if parts[-1].lower() in pseudo:
                return {"type": pseudo[parts[-1].lower()]}
            if p0 in self.unnest and len(parts) == 1:
                elem = self._resolve_elem({"elem": self.unnest[p0][1]}) if self.unnest[p0][1] else None
                return {"field": elem} if elem else None
            return self._path_field(parts)
        # function call as the whole expression
        if first.kind == "id" and len(expr) >= 2 and isinstance(expr[-1], Group) and \
                all(t.kind in ("id", "op") for t in expr[:-1]):
            name = "".join(t.text for t in expr[:-1]).upper().replace("SAFE.", "")
            args = expr[-1].items
            if name in ("CAST", "SAFE_CAST"):
                idx = next((i for i, t in enumerate(args) if t.up() == "AS"), None)
                return {"type": CAST_TYPES.get(args[idx + 1].text.upper())} if idx is not None else None
            if name == "EXTRACT":
                return {"type": "DATE" if args and args[0].up() == "DATE" else "INTEGER"}
            for s, t in ((T_DATE, "DATE"), (T_TS, "TIMESTAMP"), (T_INT, "INTEGER"), (T_FLOAT, "FLOAT"),
                         (T_STR, "STRING"), (T_BOOL, "BOOLEAN")):
                if name in s:
                    return {"type": t}
            if name == "DATETIME":
                return {"type": "DATETIME"}
            if name in T_SAME:
                a = [t for t in args if t.up() not in ("DISTINCT",)]
                if a and all(t.kind in ("id", "qid") or (t.kind == "op" and t.text == ".") for t in a):
                    return self._path_field([t.value or t.text for t in a if t.kind in ("id", "qid")])
                return self.hint(a) if a else None
            return None
        # a top-level comparison / logical expression
        if first.up() != "CASE":
            for t in expr:
                if (t.kind == "op" and t.text in BOOL_OPS) or t.up() in BOOL_WORDS:
                    return {"type": "BOOLEAN"}
            if any(t.kind == "op" and t.text == "/" for t in expr):
                return {"type": "FLOAT"}
            if any(t.kind == "op" and t.text == "||" for t in expr):
                return {"type": "STRING"}
        return None

    def _path_field(self, parts):
        low = [p.lower() for p in parts]
        fields = None
        if low[0] in self.aliases and len(parts) >= 2:
            fields, path = self.aliases[low[0]]["schema"], low[1:]
        elif low[0] in self.unnest:
            elem = self.unnest[low[0]][1]
            elem = self._resolve_elem({"elem": elem}) if elem else None
            if not elem:
                return None
            fields, path = elem.get("fields", []), low[1:]
        else:
            fields, path = list(self.columns.values()), low
            for _, elem in self._implicit_all():
                names = {f["name"].lower() for f in elem.get("fields", [])}
                if low[0] in names:
                    fields = elem["fields"]
        f = None
        for p in path:
            f = next((x for x in (fields or []) if x["name"].lower() == p), None)
            if f is None:
                return None
            fields = f.get("fields")
        return {"field": dict(f, name=parts[-1])} if f else None

    def _implicit_all(self):
        out = []
        for info in self.from_items.values():
            if info["kind"] == "unnest" and not info["named"]:
                elem = self._resolve_elem(info)
                if elem and elem["type"] == "RECORD":
                    out.append((info["alias"], elem))
        return out


def convert_params(cfg):
    """queryParameters → {name: (type, value)} or [(type, value)]. Raises JobError(invalid) on bad values."""
    mode = cfg.get("parameterMode")
    qps = cfg.get("queryParameters") or []
    named = mode != "POSITIONAL"
    if mode not in (None, "NAMED", "POSITIONAL"):
        raise JobError("invalid", "Invalid value for parameterMode: %s is not a valid value" % mode)
    out = {} if named else []
    for i, qp in enumerate(qps):
        ptype = qp.get("parameterType") or {}
        typ = (ptype.get("type") or "").upper()
        if not typ:
            raise JobError("invalid", "Query parameter %s is missing parameterType.type" % (qp.get("name") or i))
        name = qp.get("name")
        if named and not name:
            raise JobError("invalid", "Query parameter at position %d needs a name when parameterMode is NAMED" % i)
        pv = qp.get("parameterValue") or {}
        if typ == "ARRAY":
            et = ((ptype.get("arrayType") or {}).get("type") or "").upper()
            if et in ("STRUCT", "ARRAY", "RANGE") or not et:
                raise Unsupported("query parameters of type ARRAY<%s>" % (et or "?"))
            vals = [_param_scalar(et, (v or {}).get("value"), name) for v in (pv.get("arrayValues") or [])]
            val = ("ARRAY", json.dumps(vals))
        elif typ in ("STRUCT", "RANGE", "INTERVAL", "GEOGRAPHY"):
            raise Unsupported("query parameters of type %s" % typ)
        else:
            val = (CAST_TYPES.get(typ, typ if typ in ("FLOAT", "INTEGER", "BYTES", "JSON") else None),
                   _param_scalar(typ, pv.get("value"), name))
            if val[0] is None:
                raise JobError("invalid", "Invalid query parameter type %s" % typ)
        if named:
            if name.lower() in out:
                raise JobError("invalid", "Duplicate query parameter name %s" % name)
            out[name.lower()] = val
        else:
            out.append(val)
    return out


def _param_scalar(typ, v, name):
    if v is None:
        return None
    t = bq_types.CANON.get(typ, typ)
    try:
        if t == "BYTES":
            import base64
            return base64.b64decode(v)
        val = bq_types.scalar_from_text(t, v)
        return val
    except BadValue:
        raise JobError("invalid", "Invalid value for query parameter %s of type %s: %s" % (name, typ, v))


def _unrecognized(name, toks, query):
    """BigQuery's "Unrecognized name: x at [l:c]" for a column SQLite did not find (name as SQLite reports it)."""
    parts = name.split(".")
    msg = "Unrecognized name: %s" % parts[-1].strip('"`')
    if len(parts) == 1:
        at = _name_pos(parts[0].strip('"`'), toks)
        if at is not None:
            msg += " at [%s]" % _loc(query, at)
    return JobError("invalidQuery", msg, location="query")


def _name_pos(name, toks):
    """Where the first standalone reference to name starts in the query text (the backtick, if quoted), or None.

    SQLite names only the column, not where it stood; a name right after AS is an alias and one next to a "."
    is part of a path, so neither is the reference BigQuery points at.
    """
    for k, t in enumerate(toks):
        if t.kind not in ("id", "qid") or (t.value if t.kind == "qid" else t.text).lower() != name.lower():
            continue
        prev = toks[k - 1] if k > 0 else None
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if (prev is not None and (prev.up() == "AS" or prev.text == ".")) or (nxt is not None and nxt.text == "."):
            continue
        return t.pos
    return None


def _map_sqlite_error(e, toks, query):
    msg = bq_functions.LAST_ERROR.__dict__.pop("msg", None)
    if msg:
        return JobError("invalidQuery", msg, location="query")
    s = str(e)
    m = re.match(r"no such column: (.+)", s)
    if m:
        return _unrecognized(m.group(1), toks, query)
    m = re.match(r"ambiguous column name: (.+)", s)
    if m:
        return JobError("invalidQuery", "Column name %s is ambiguous" % m.group(1), location="query")
    m = re.match(r"no such function: (.+)", s)
    if m:
        return Unsupported("the function %s" % m.group(1))
    m = re.match(r"no such table: (.+)", s)
    if m:
        return JobError("invalidQuery", "Table name \"%s\" missing dataset while no default dataset is set in the "
                        "request." % m.group(1), location="query")
    if "syntax error" in s or "incomplete input" in s:
        return syntax("%s (in the SQLite rewrite of the query)" % s)
    if "misuse of aggregate" in s or "GROUP BY" in s:
        return JobError("invalidQuery", "SELECT list expression references a column which is neither grouped nor "
                        "aggregated (%s)" % s, location="query")
    return JobError("invalidQuery", "The BigQuery stand-in failed to run the rewritten query: %s" % s,
                    location="query")


def _prepare(conn, sql, bind, toks, query):
    # A dry run resolves names without reading rows, as BigQuery's does: EXPLAIN compiles the statement (so an
    # unknown column fails here) but runs none of it.
    try:
        conn.execute("EXPLAIN " + sql, bind).fetchall()
    except sqlite3.Error as e:
        raise _map_sqlite_error(e, toks, query)


def run_query(store, query, cfg, project, dry_run=False):
    """Returns dict(schema, rows, bytes, tables, sql). rows are lists in storage form."""
    params = convert_params(cfg)
    rw = Rewriter(store, project, cfg.get("defaultDataset"), params)
    rw.sql = query
    toks = lex(query)
    for i, t in enumerate([t for t in toks if t.kind == "qmark"]):
        t.value = i
    items = nest(toks, query)
    if not items:
        raise syntax("Unexpected end of statement")
    head = items[0].up()
    if head in UNSUPPORTED_WORDS:
        raise Unsupported(UNSUPPORTED_WORDS[head])
    if head not in ("SELECT", "WITH") and not isinstance(items[0], Group):
        raise syntax("Unexpected keyword %s at [1:1]" % (items[0].text))
    with store.lock:
        names = rw.main_select(items)  # inserts output aliases: must run before scan() records indexes
        rw.scan(items)
        if names:
            names = [(alias, rw.hint(expr)) for alias, expr in names]
        sql = rw.emit(items)
        total_bytes = sum(store.table_bytes(m["project"], m["dataset"], m["table"]) for m in rw.tables)
        bind = {"p_" + re.sub(r"\W", "_", k): v for k, v in rw.used_params.items()}
        if isinstance(params, list):
            bind = [v for _, v in params[:rw.positional]]
        bq_functions.LAST_ERROR.__dict__.pop("msg", None)
        if dry_run:
            _prepare(store.conn, sql, bind, toks, query)
            return {"schema": None, "rows": [], "bytes": total_bytes, "tables": rw.tables, "sql": sql}
        try:
            cur = store.conn.execute(sql, bind)
            raw = cur.fetchall()
            desc = [d[0] for d in cur.description]
        except sqlite3.Error as e:
            raise _map_sqlite_error(e, toks, query)
    schema = infer_schema(rw, names, desc, raw)
    rows = [[_storage(f, v) for f, v in zip(schema, r)] for r in raw]
    return {"schema": schema, "rows": rows, "bytes": total_bytes, "tables": rw.tables, "sql": sql}


def _storage(f, v):
    if v is None:
        return None
    if f["type"] == "BOOLEAN":
        return 1 if v else 0
    if f["type"] in ("FLOAT", "NUMERIC", "BIGNUMERIC") and isinstance(v, int):
        return float(v)
    return v if type(v) in (int, float, str, bytes) else (
        int(v) if isinstance(v, int) else float(v) if isinstance(v, float) else bytes(v)
        if isinstance(v, (bytes, bytearray)) else str(v))


def infer_schema(rw, names, desc, raw):
    fields = []
    for i, col in enumerate(desc):
        name, hint = (names[i] if names and i < len(names) else (col, None))
        f = None
        if hint and "field" in hint:
            f = dict(hint["field"], name=name)
            if f["mode"] == "REQUIRED":
                f["mode"] = "NULLABLE"
        tag = None
        for r in raw:
            if r[i] is not None and hasattr(r[i], "bqtype"):
                tag = r[i].bqtype
                break
        if f is None and tag == "RECORD":
            src = rw.columns.get(name.lower())
            if src is None:
                raise Unsupported("selecting nested column %s under a different name" % name)
            f = dict(src, name=name)
        if f is None and hint and hint.get("type"):
            f = {"name": name, "type": hint["type"], "mode": "NULLABLE"}
        if f is None and tag:
            f = {"name": name, "type": tag, "mode": "NULLABLE"}
        if f is None:
            kinds = {type(r[i]) for r in raw if r[i] is not None}
            t = "STRING"
            if kinds and kinds <= {int}:
                t = "INTEGER"
            elif kinds and kinds <= {int, float}:
                t = "FLOAT"
            elif kinds == {bytes}:
                t = "BYTES"
            f = {"name": name, "type": t, "mode": "NULLABLE"}
        if f["mode"] == "REQUIRED":
            f["mode"] = "NULLABLE"
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", f["name"]):
            f["name"] = "f%d_" % i
        fields.append(f)
    return fields
