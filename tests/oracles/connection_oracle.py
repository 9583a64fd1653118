#!/usr/bin/python3
"""Golden connection URIs, JSON and export files for mayaflow, computed the way Airflow 2.10 computes them.

Airflow's Connection (airflow/models/connection.py) reads a URI with urllib.parse and writes one with
quote/urlencode; `airflow connections export` (airflow/cli/commands/connection_command.py) writes
json.dumps(indent=2), yaml.dump (PyYAML's CSafeDumper, via airflow.utils.yaml) or .env lines. This
script re-implements those few functions on Debian's Python standard library and python3-yaml — the
same urllib.parse, json and libyaml emitter Airflow runs on — and writes
engine/connections/testdata/connection_golden.json: for each case, the input and what Airflow makes
of it. engine/connections/connection_golden_test.cpp checks mayaflow against every row.

    /usr/bin/python3 tests/oracles/connection_oracle.py           # rewrite the golden file
    /usr/bin/python3 tests/oracles/connection_oracle.py --check   # recompute; exit 1 if the file differs

Re-implemented behaviour (Airflow 2.10):
  * parse: more than two '://' is refused; with two, the second names a protocol kept in the host,
    and the text before it may not hold '@' or ':'; the conn_type is the lower-cased scheme with
    "postgresql" -> "postgres" and '-' -> '_'; the host is urlsplit's (lower-cased) hostname,
    unquoted, unless it holds a '/' once unquoted (then it is cut from the raw netloc, case kept);
    schema, login and password are unquoted; an empty password becomes None (the setter ignores a
    falsy value); the query becomes the extra as json.dumps(dict(parse_qsl(...))) unless it has
    __extra__, whose value is taken as the extra text.
  * get_uri: scheme = conn_type lower-cased with '_' -> '-' (or '//' with no type); a protocol in
    the host goes after the scheme; login/password/host/schema quoted with safe=''; '@:port' when
    there is neither host nor credentials; the extras as urlencode(extra_dejson) when that survives
    parse_qsl unchanged, else __extra__=<the extra text>; '/?' before the query when there is no schema.
  * from_json: falsy extra/port/conn_type dropped, extra dumped when not text, port through int().
"""

import argparse
import json
import pathlib
import sys
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

try:
    import yaml
    from yaml import CSafeDumper
except ImportError:  # pragma: no cover - environment problem, reported plainly
    sys.exit("connection_oracle.py needs python3-yaml with libyaml: apt-get install python3-yaml, and run /usr/bin/python3")

REPO = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = REPO / "engine" / "connections" / "testdata" / "connection_golden.json"

FIELDS = ("conn_type", "description", "host", "login", "password", "schema", "port", "extra")


class Refused(Exception):
    """Airflow raises (AirflowException or ValueError) for this input."""


# ---------------------------------------------------------------------------------------------
# The model: a dict of the Connection's fields with Airflow's setter rules.


def new_connection(**fields):
    conn = {name: None for name in FIELDS}
    for name, value in fields.items():
        if name == "password":
            if value:  # Connection.set_password ignores a falsy value
                conn["password"] = value
        elif name == "extra":
            if value and not isinstance(value, str):
                value = json.dumps(value)
            conn["extra"] = value
        else:
            conn[name] = value
    return conn


def normalize_conn_type(conn_type):
    if conn_type == "postgresql":
        return "postgres"
    return conn_type.replace("-", "_")


def hostname_of(parts):
    hostname = unquote(parts.hostname or "")
    if "/" in hostname:
        hostname = parts.netloc
        if "@" in hostname:
            hostname = hostname.rsplit("@", 1)[1]
        if ":" in hostname:
            hostname = hostname.split(":", 1)[0]
        hostname = unquote(hostname)
    return hostname


def parse_uri(uri):
    try:
        if uri.count("://") > 2:
            raise Refused("more than two '://'")
        host_with_protocol = uri.count("://") == 2
        scheme = urlsplit(uri).scheme
        rest = uri.replace(f"{scheme}://", "" if host_with_protocol else "//")
        if host_with_protocol:
            before = rest.split("://", 1)[0]
            if "@" in before or ":" in before:
                raise Refused("protocol holds '@' or ':'")
        parts = urlsplit(rest)
        protocol = parts.scheme if host_with_protocol else None
        host = hostname_of(parts)
        if host and protocol:
            host = f"{protocol}://{host}"
        quoted_schema = parts.path[1:]
        extra = None
        if parts.query:
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            extra = query["__extra__"] if "__extra__" in query else json.dumps(query)
        return new_connection(
            conn_type=normalize_conn_type(scheme),
            host=host,
            schema=unquote(quoted_schema) if quoted_schema else quoted_schema,
            login=unquote(parts.username) if parts.username else parts.username,
            password=unquote(parts.password) if parts.password else parts.password,
            port=parts.port,
            extra=extra,
        )
    except ValueError as error:  # urllib.parse refuses the URI (brackets, port)
        raise Refused(str(error)) from error


def extra_dejson(conn):
    if not conn["extra"]:
        return {}
    try:
        return json.loads(conn["extra"])
    except json.JSONDecodeError:
        return {}


def get_uri(conn):
    uri = f"{conn['conn_type'].lower().replace('_', '-')}://" if conn["conn_type"] else "//"
    host = conn["host"]
    protocol = None
    if host and "://" in host:
        protocol, host = host.split("://", 1)
    if protocol:
        uri += f"{protocol}://"
    authority = ""
    if conn["login"] is not None:
        authority += quote(conn["login"], safe="")
    if conn["password"] is not None:
        authority += ":" + quote(conn["password"], safe="")
    if authority:
        authority += "@"
        uri += authority
    host_block = quote(host, safe="") if host else ""
    if conn["port"]:
        host_block += f"@:{conn['port']}" if not host_block and not authority else f":{conn['port']}"
    if conn["schema"]:
        host_block += "/" + quote(conn["schema"], safe="")
    uri += host_block
    if conn["extra"]:
        separator = "?" if conn["schema"] else "/?"
        try:
            query = urlencode(extra_dejson(conn))
        except TypeError:
            query = None
        if query and extra_dejson(conn) == dict(parse_qsl(query, keep_blank_values=True)):
            uri += separator + query
        else:
            uri += separator + urlencode({"__extra__": conn["extra"]})
    return uri


def from_json(text):
    try:
        kwargs = json.loads(text)
        extra = kwargs.pop("extra", None)
        if extra:
            kwargs["extra"] = extra if isinstance(extra, str) else json.dumps(extra)
        conn_type = kwargs.pop("conn_type", None)
        if conn_type:
            kwargs["conn_type"] = normalize_conn_type(conn_type)
        port = kwargs.pop("port", None)
        if port:
            kwargs["port"] = int(port)
        unknown = set(kwargs) - set(FIELDS)
        if unknown:
            raise Refused(f"unknown fields {sorted(unknown)}")
        return new_connection(**kwargs)
    except (ValueError, TypeError) as error:
        raise Refused(str(error)) from error


def export_dict(conn):
    # _connection_to_dict's key order.
    return {name: conn[name] for name in ("conn_type", "description", "login", "password", "host", "port", "schema", "extra")}


def format_export(conns, file_format, serialization):
    if file_format == "env":
        serialize = get_uri if serialization == "uri" else (lambda conn: json.dumps(export_dict(conn)))
        return "".join(f"{conn_id}={serialize(conn)}\n" for conn_id, conn in conns)
    everything = {conn_id: export_dict(conn) for conn_id, conn in conns}
    if file_format == "yaml":
        return yaml.dump(everything, Dumper=CSafeDumper)
    return json.dumps(everything, indent=2)


# ---------------------------------------------------------------------------------------------
# The cases.

ODD = ":/?#[]@!$&'()*+,;= "

PARSE_URIS = [
    "postgres://user:pass@db.example.com:5432/sales",
    "postgresql://user:pass@db:5432/sales",
    "google-cloud-platform://?key_path=%2Fsecrets%2Fsa.json&project=my-proj",
    "google-cloud-platform://?extra__google_cloud_platform__project=p&scope=a+b",
    "mysql://root@localhost",
    "mysql://root:@localhost",
    "mysql://:secret@localhost",
    "mysql://@localhost:3306",
    "http://host:80/path/more",
    "http://HOST.Example.COM/Schema",
    "http://user:p%40ss%3Aw%2Ford@host/db",
    "http://user:" + quote(ODD, safe="") + "@host/db",
    "http://us%20er:pa%20ss@host",
    "http://user:pa+ss@host",
    "http://user:pass@host?__extra__=%7B%22a%22%3A+1%7D",
    "http://user:pass@host?__extra__=%5B1%2C+2%5D",
    "http://user:pass@host?__extra__=not-json",
    "http://host?a=1&a=2&b=",
    "http://host?a&b=c",
    "http://host/?x=%E2%82%AC",
    "http://host/db?x=%ff",
    "http://[::1]:8080/db",
    "http://[fe80::1%25eth0]/db",
    "http://[2001:db8::a:B]/",
    "http://[::ffff:192.0.2.1]:1",
    "http://[192.0.2.1]/",
    "http://[::1/db",
    "http://::1]/db",
    "http://[vA.x]/db",
    "http://host:abc/db",
    "http://host:99999/db",
    "http://host:0/db",
    "http://host:007/db",
    "http://host:/db",
    "http://https://host.example.com/path",
    "http://https://user:pass@host:443/db",
    "ftp://http://https://host",
    "http://us:er@https://host",
    "s3://bucket-name",
    "aws://?region_name=eu-west-1&aws_access_key_id=AKIA&aws_secret_access_key=abc%2Fdef",
    "sqlite://%2Ftmp%2Fdb.sqlite",
    "http://%2Fvar%2FRun%2Fsock/db",
    "http://user@%2Fvar%2Frun:5/x",
    "http://h%C3%B6st.example/d%C3%ABb",
    "http://user:pässwörd@hôst.example/dåtabase",
    "http://ÜSER:PÄSS@HÖST.example",
    "http://user:%E2%82%AC%F0%9F%98%80@host",
    "http://user:%C3@host",
    "//host:5/db",
    "host/db",
    "1http://host",
    "my_type://host",
    "MY-TYPE://HOST/DB",
    "  http://host/db",
    "http://ho\tst/db",
    "http://host/db#fragment",
    "http://host/db?a=1#frag?b=2",
    "http://host/db%2Fwith%2Fslash",
    "http://host//db",
    "http://u%40x:p%40y@host@other/db",
    "http://host?%E2%82%AC=euro&key%20with=sp+ace",
    "wasb://?extra__wasb__sas_token=sv%3D2020%26sig%3Dabc",
    "slack://:xoxb-token@",
    "http://:@host",
    "http://user:pass@:5432/db",
]

FORMAT_CONNECTIONS = [
    dict(conn_type="postgres", host="db.example.com", login="user", password="pass", schema="sales", port=5432),
    dict(conn_type="postgres", host="db", login="user", password=ODD, schema="sales", port=5432),
    dict(conn_type="google_cloud_platform", extra={"key_path": "/secrets/sa.json", "project": "my-proj"}),
    dict(conn_type="google_cloud_platform", extra={"keyfile_dict": {"type": "service_account"}, "num_retries": 5}),
    dict(conn_type="http", host="https://api.example.com", login="u", password="p"),
    dict(conn_type="http", host="https://api.example.com/v1/path", port=443),
    dict(conn_type="http", host="://weird"),
    dict(conn_type="mysql", port=3306),
    dict(conn_type="mysql", login="root", port=3306),
    dict(conn_type="mysql", password="secret", port=3306),
    dict(conn_type="mysql", login="", password=""),
    dict(conn_type="mysql", login="", host="h"),
    dict(conn_type="mysql", host="h", port=0),
    dict(conn_type="sqlite", host="/tmp/db.sqlite"),
    dict(conn_type="fs", extra={"path": "/data/in"}),
    dict(conn_type="generic", extra={"a": "1", "b": True, "c": None}),
    dict(conn_type="generic", extra={"flag": True}),
    dict(conn_type="generic", extra={"n": 1.5, "m": 10**16, "s": "x y"}),
    dict(conn_type="generic", extra={"nested": {"deep": ["a", {"b": "c"}]}}),
    dict(conn_type="generic", extra="[1, 2, 3]"),
    dict(conn_type="generic", extra="not json at all"),
    dict(conn_type="generic", extra="{}"),
    dict(conn_type="generic", extra='{"a": "1", "a": "2"}'),
    dict(conn_type="generic", extra={"€uro": "ünïcode", "space key": "v&x=y"}),
    dict(conn_type="generic", extra={"": ""}),
    dict(conn_type="generic", schema="db", extra={"a": "b"}),
    dict(conn_type="", host="host", port=1),
    dict(conn_type="Mixed_Case_Type", host="Host.Example", schema="Schema Name"),
    dict(conn_type="http", host="hôst.example", login="üser", password="pässwörd€😀", schema="dåtabase"),
    dict(conn_type="http", host="[::1]", port=8080),
    dict(conn_type="http", host="::1", port=8080),
    dict(conn_type="http", host="fe80::1%eth0"),
    dict(conn_type="http", login="us:er", password="pa@ss", host="h/o:st", schema="s/c?h#e"),
    dict(conn_type="http", host="UPPER.CASE.HOST", schema="UpperSchema"),
    dict(conn_type="slack", password="xoxb-123-abc"),
    dict(conn_type="aws", login="AKIA", password="abc/def+ghi=", extra={"region_name": "eu-west-1"}),
    dict(conn_type="postgres", host="db", description="described", port=5432),
]

FROM_JSON = [
    '{"conn_type": "postgres", "host": "db", "port": 5432}',
    '{"conn_type": "postgresql", "host": "db", "port": "5432"}',
    '{"conn_type": "google-cloud-platform", "extra": {"project": "p", "num_retries": 3}}',
    '{"conn_type": "http", "extra": "{\\"a\\": \\"b\\"}"}',
    '{"conn_type": "http", "extra": {}, "port": 0, "password": ""}',
    '{"conn_type": "http", "port": " 80 "}',
    '{"conn_type": "http", "port": "8_080"}',
    '{"conn_type": "http", "port": "eighty"}',
    '{"conn_type": "http", "port": 80.9}',
    '{"conn_type": "http", "bogus": 1}',
    '{"conn_type": "http", "description": "d", "login": "l", "schema": "s"}',
    '{"conn_type": "http", "extra": ["x"]}',
]

EXPORT_CONNECTIONS = [
    ("a_simple", dict(conn_type="postgres", host="db", login="user", password="pass", schema="sales", port=5432)),
    ("b_extra", dict(conn_type="google_cloud_platform", extra={"project": "my-proj", "num_retries": 5})),
    ("c_nulls", dict(conn_type="http")),
    ("d_empty", dict(conn_type="http", host="", schema="", login="", extra="")),
    ("e_quote", dict(conn_type="http", password="it's \"quoted\" #hash: colon", description="yes")),
    ("f_numbers", dict(conn_type="http", host="123", schema="1.5", login="true", description="null")),
    ("g_unicode", dict(conn_type="http", host="hôst", password="pässwörd€😀", description="tab\there")),
    ("h_long", dict(conn_type="http", description="a long description " * 8, password="x" * 120)),
    ("i_lines", dict(conn_type="http", description="line one\nline two\n\nline four", extra='{"k": "v"}')),
    ("j_spaces", dict(conn_type="http", host=" leading", login="trailing ", schema="  both  ")),
    ("k_indicators", dict(conn_type="http", host="-dash", login="? q", schema="& amp", description="- item")),
    ("l_ts", dict(conn_type="http", host="2024-01-01", login="0x1F", schema="~", description="1:30")),
    ("m_colon", dict(conn_type="http", host="a:b", login="a: b", schema="a #b", description="a#b")),
    ("n_long_words", dict(conn_type="http", description=("word " * 30).strip() + "  end", login="  " + "y " * 50)),
    ("o_specials", dict(conn_type="http", description="bell\x07 nul\x00 esc\x1b nbsp\xa0 nel\x85 ls\u2028", password="\x7f")),
    ("123", dict(conn_type="http", host="numeric id")),
    ("true", dict(conn_type="http")),
    ("x" * 130, dict(conn_type="http", host="very long key")),
    ("quote'key", dict(conn_type="http", port=1)),
]


def conn_json(conn):
    return {name: conn[name] for name in FIELDS}


def parse_case(uri):
    try:
        return {"kind": "parse", "uri": uri, "expect": conn_json(parse_uri(uri))}
    except Refused:
        return {"kind": "parse", "uri": uri, "expect": None}


def format_case(fields):
    conn = new_connection(**fields)
    uri = get_uri(conn)
    try:
        reparsed = conn_json(parse_uri(uri))
    except Refused:
        reparsed = None
    return {"kind": "format", "connection": conn_json(conn), "expect": uri, "reparsed": reparsed}


def from_json_case(text):
    try:
        return {"kind": "from_json", "json": text, "expect": conn_json(from_json(text))}
    except Refused:
        return {"kind": "from_json", "json": text, "expect": None}


def export_cases():
    conns = sorted(((conn_id, new_connection(**fields)) for conn_id, fields in EXPORT_CONNECTIONS), key=lambda c: c[0])
    listed = [dict(conn_id=conn_id, **conn_json(conn)) for conn_id, conn in conns]
    cases = []
    for file_format, serialization in (("json", "uri"), ("yaml", "uri"), ("env", "uri"), ("env", "json")):
        cases.append({"kind": "export", "format": file_format, "serialization": serialization, "connections": listed,
                      "expect": format_export(conns, file_format, serialization)})
    for file_format in ("json", "yaml", "env"):
        cases.append({"kind": "export", "format": file_format, "serialization": "uri", "connections": [],
                      "expect": format_export([], file_format, "uri")})
    return cases


def golden():
    cases = [parse_case(uri) for uri in PARSE_URIS]
    cases += [format_case(fields) for fields in FORMAT_CONNECTIONS]
    cases += [from_json_case(text) for text in FROM_JSON]
    cases += export_cases()
    return {
        "source": "tests/oracles/connection_oracle.py (Airflow 2.10's Connection and connections export, "
                  "on Python %d.%d's urllib.parse, json and PyYAML %s with libyaml)"
                  % (sys.version_info[0], sys.version_info[1], yaml.__version__),
        "cases": cases,
    }


def render(data):
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the golden file differs from a fresh run")
    args = parser.parse_args()
    text = render(golden())
    if args.check:
        current = GOLDEN.read_text(encoding="utf-8") if GOLDEN.exists() else ""
        if current != text:
            sys.exit(f"{GOLDEN} differs from what Airflow's rules give; run {pathlib.Path(__file__).name} to rewrite it")
        print(f"{GOLDEN.name}: {len(golden()['cases'])} cases agree with Airflow's rules")
        return
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(text, encoding="utf-8")
    print(f"wrote {GOLDEN} ({len(golden()['cases'])} cases)")


if __name__ == "__main__":
    main()
