"""`mayaflow connections …`, `variables …` and `rotate-secret-key` end to end, on a temporary home:
Airflow's messages and files, round trips through all three export formats, files Airflow wrote,
secrets never in clear in the database file, and a wrong key refused."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "oracles"))
from daemon import MAYAFLOW  # noqa: E402
import connection_oracle as airflow  # noqa: E402  (Airflow 2.10's export rules, re-implemented)

PASSWORD = "S3cr3t p@ss:/?#[]!$&'()*+,;="
OTHER_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


class Home:
    """A MAYAFLOW_HOME of its own, and a way to run mayaflow in it."""

    def __init__(self):
        self.path = pathlib.Path(tempfile.mkdtemp(prefix="mayaflow-connections-"))
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("MAYAFLOW_", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}
        self.env["MAYAFLOW_HOME"] = str(self.path)

    def run(self, *args, env=None, check=True):
        result = subprocess.run([MAYAFLOW, *args], capture_output=True, text=True, timeout=60,
                                env=dict(self.env, **(env or {})), cwd=self.path)
        if check and result.returncode != 0:
            raise AssertionError(f"mayaflow {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def get(self, conn_id, *flags, env=None):
        return json.loads(self.run("connections", "get", conn_id, "-o", "json", *flags, env=env).stdout)[0]

    def database_bytes(self):
        return b"".join(p.read_bytes() for p in self.path.glob("mayaflow.db*"))

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def add_sample_connections(home):
    home.run("connections", "add", "bq_main", "--conn-uri",
             "google-cloud-platform://?key_path=%2Fsecrets%2Fsa.json&project=my-proj")
    home.run("connections", "add", "pg", "--conn-type", "postgres", "--conn-host", "db.example.com",
             "--conn-login", "etl", "--conn-password", PASSWORD, "--conn-schema", "sales", "--conn-port", "5432",
             "--conn-description", "the warehouse")
    home.run("connections", "add", "slack", "--conn-json",
             json.dumps({"conn_type": "slack", "password": "xoxb-123-secret",
                         "extra": {"channel": "#alerts", "api_key": "k-secret", "retries": 3}}))
    home.run("connections", "add", "odd", "--conn-type", "http", "--conn-host", "https://api.example.com/v1",
             "--conn-login", "üser", "--conn-password", "pässwörd€", "--conn-extra", '{"nested": {"a": [1, true]}}')


FIELDS = ("conn_type", "description", "host", "login", "password", "schema", "port", "extra_dejson")


def fields(record):
    return {name: record[name] for name in FIELDS}


def uri_round_trip(record):
    """The fields Airflow reads back from the URI it writes for a connection with these fields."""
    conn = airflow.new_connection(**{name: record[name] for name in FIELDS if name != "extra_dejson"},
                                  extra=json.dumps(record["extra_dejson"]) if record["extra_dejson"] else None)
    back = airflow.parse_uri(airflow.get_uri(conn))
    return dict({name: back[name] for name in FIELDS if name != "extra_dejson"},
                extra_dejson=json.loads(back["extra"]) if back["extra"] else {})


class ConnectionsTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()

    def tearDown(self):
        self.home.cleanup()

    def test_add_prints_airflows_message_with_the_password_hidden(self):
        home = self.home
        result = home.run("connections", "add", "bq_main", "--conn-uri",
                          "google-cloud-platform://?key_path=%2Fsecrets%2Fsa.json&project=my-proj")
        self.assertEqual(result.stdout, "Successfully added `conn_id`=bq_main : "
                                        "google-cloud-platform://?key_path=%2Fsecrets%2Fsa.json&project=my-proj\n")
        result = home.run("connections", "add", "pg", "--conn-type", "postgres", "--conn-host", "db",
                          "--conn-login", "etl", "--conn-password", PASSWORD, "--conn-port", "5432",
                          "--conn-schema", "sales")
        self.assertEqual(result.stdout, "Successfully added `conn_id`=pg : postgres://etl:******@db:5432/sales\n")
        result = home.run("connections", "add", "uri_pw", "--conn-uri", "postgres://u:hunter2@h/db")
        self.assertEqual(result.stdout, "Successfully added `conn_id`=uri_pw : postgres://u:******@h/db\n")

        record = home.get("bq_main")
        self.assertEqual(record["conn_type"], "google_cloud_platform")
        self.assertEqual(record["extra_dejson"], {"key_path": "/secrets/sa.json", "project": "my-proj"})
        self.assertEqual(record["source"], "database")

    def test_add_refuses_what_airflow_refuses(self):
        home = self.home
        home.run("connections", "add", "pg", "--conn-uri", "postgres://h")
        cases = [
            (("pg", "--conn-uri", "postgres://other"), "A connection with `conn_id`=pg already exists."),
            (("x", "--conn-uri", "no-scheme"), "The URI provided to --conn-uri is invalid"),
            (("x", "--conn-uri", "a://b://c://d"), "The URI provided to --conn-uri is invalid"),
            (("x", "--conn-uri", "http://h:port/"), "Port could not be cast"),
            (("x", "--conn-type", "http", "--conn-extra", "[1, 2]"), "not an object"),
            (("x", "--conn-type", "http", "--conn-extra", "{nope"), "not JSON"),
            (("x",), "Must supply either conn-uri or conn-json if not supplying conn-type"),
            (("x", "--conn-uri", "http://h", "--conn-json", "{}"), "Cannot supply both conn-uri and conn-json"),
            (("x", "--conn-uri", "http://h", "--conn-host", "h", "--conn-port", "1"),
             "The following args are not compatible with the --conn-uri flag: ['conn_host', 'conn_port']"),
            (("x", "--conn-json", '{"host": "h"}'), "conn-json is invalid; must supply conn-type"),
            (("bad id", "--conn-type", "http"), "Could not create connection."),
            (("x", "--conn-type", "http", "--conn-port", "eighty"), "Expected integer value for `port`"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                result = home.run("connections", "add", *args, check=False)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(message, result.stderr)
        self.assertEqual(home.run("connections", "get", "pg", "-o", "json").stdout.count('"conn_id"'), 1)

    def test_get_and_list_hide_secrets_unless_asked(self):
        home = self.home
        add_sample_connections(home)
        record = home.get("pg")
        self.assertEqual(record["password"], "***")
        self.assertNotIn("S3cr3t", record["get_uri"])
        self.assertEqual(home.get("pg", "--show-secrets")["password"], PASSWORD)
        slack = home.get("slack")
        self.assertEqual(slack["extra_dejson"], {"channel": "#alerts", "api_key": "***", "retries": 3})
        for output in ("table", "json", "yaml", "plain"):
            with self.subTest(output=output):
                listed = home.run("connections", "list", "-o", output).stdout
                for secret in ("S3cr3t", "xoxb-123-secret", "k-secret", "pässwörd"):
                    self.assertNotIn(secret, listed)
                for conn_id in ("bq_main", "pg", "slack", "odd"):
                    self.assertIn(conn_id, listed)
        only = json.loads(home.run("connections", "list", "-o", "json", "--conn-id", "pg").stdout)
        self.assertEqual([r["conn_id"] for r in only], ["pg"])
        missing = home.run("connections", "get", "nope", check=False)
        self.assertEqual((missing.returncode, missing.stderr.strip()), (1, "error: Connection not found."))

    def test_round_trip_through_every_export_format(self):
        home = self.home
        add_sample_connections(home)
        ids = ("bq_main", "pg", "slack", "odd")
        before = {c: fields(home.get(c, "--show-secrets")) for c in ids}
        # A URI holds no description and cannot tell null from "": what Airflow reads back from its own URI.
        through_uri = {c: uri_round_trip(f) for c, f in before.items()}
        exports = [("all.json", (), before), ("all.yaml", (), before), ("all.env", (), through_uri),
                   ("all_json.env", ("--serialization-format", "json"), before),
                   ("typed", ("--file-format", "yaml"), before)]
        for name, flags, expected in exports:
            with self.subTest(file=name):
                for conn_id in ids:  # the connections as added, whatever the last format did
                    home.run("connections", "delete", conn_id, check=False)
                add_sample_connections(home)
                result = home.run("connections", "export", name, *flags)
                self.assertEqual(result.stdout, f"Connections successfully exported to {name}.\n")
                self.assertEqual(os.stat(home.path / name).st_mode & 0o777, 0o600)
                self.assertIn(PASSWORD if "env" not in name else "S3cr3t", (home.path / name).read_text())
                for conn_id in ids:
                    home.run("connections", "delete", conn_id)
                source = name if name != "typed" else "typed.yaml"
                if name == "typed":
                    shutil.copy(home.path / name, home.path / source)
                imported = home.run("connections", "import", source).stdout
                self.assertEqual(sorted(imported.splitlines()), sorted(f"Imported connection {c}" for c in ids))
                after = {c: fields(home.get(c, "--show-secrets")) for c in ids}
                self.assertEqual(after, expected)
        stdout = home.run("connections", "export", "-", "--file-format", "env")
        self.assertIn("pg=postgres://etl:S3cr3t%20p%40ss", stdout.stdout)
        self.assertIn("Connections successfully exported.", stdout.stderr)
        self.assertEqual(json.loads(home.run("connections", "export", "-").stdout).keys(), set(ids))

    def test_export_writes_what_airflow_writes(self):
        home = self.home
        add_sample_connections(home)
        conns = []
        for conn_id in sorted(("bq_main", "pg", "slack", "odd")):
            record = home.get(conn_id, "--show-secrets")
            raw = json.loads(home.run("connections", "export", "-", "--file-format", "env",
                                      "--serialization-format", "json").stdout.split(f"{conn_id}=", 1)[1].split("\n")[0])
            conns.append((conn_id, airflow.new_connection(
                conn_type=record["conn_type"], description=record["description"], host=record["host"],
                login=record["login"], password=record["password"], schema=record["schema"], port=record["port"],
                extra=raw["extra"])))
        for file_format, serialization, flags in [("json", "uri", ()), ("yaml", "uri", ()), ("env", "uri", ()),
                                                  ("env", "json", ("--serialization-format", "json"))]:
            with self.subTest(format=file_format, serialization=serialization):
                ours = home.run("connections", "export", "-", "--file-format", file_format, *flags).stdout
                self.assertEqual(ours, airflow.format_export(conns, file_format, serialization))

    def test_files_airflow_wrote_import(self):
        home = self.home
        (home.path / "airflow.json").write_text(json.dumps({
            "gcp": {"conn_type": "google_cloud_platform", "description": None, "login": None, "password": None,
                    "host": None, "port": None, "schema": None,
                    "extra": "{\"project\": \"composer-proj\", \"keyfile_dict\": {\"type\": \"service_account\"}}"},
            "pg": {"conn_type": "postgres", "description": "from composer", "login": "etl", "password": "pw-json",
                   "host": "10.0.0.5", "port": 5432, "schema": "dwh", "extra": None},
        }, indent=2))
        (home.path / "airflow.yaml").write_text(
            "smtp:\n  conn_type: email\n  description: null\n  extra: null\n  host: smtp.example.com\n"
            "  login: mailer\n  password: 'pw: yaml'\n  port: 587\n  schema: ''\n"
            "legacy:\n  conn_type: http\n  extra_dejson:\n    token: tok-yaml\n  host: api\n")
        (home.path / "airflow.env").write_text(
            "# exported by airflow\nredis=redis://:pw-env@cache:6379/0\n"
            'mysql={"conn_type": "mysql", "host": "m", "password": "pw-env-json", "port": 3306}\n')
        for name in ("airflow.json", "airflow.yaml", "airflow.env"):
            home.run("connections", "import", name)
        # As Airflow's redact(): everything under a sensitive key is hidden, the structure kept.
        self.assertEqual(home.get("gcp")["extra_dejson"], {"project": "composer-proj", "keyfile_dict": {"type": "***"}})
        pg = home.get("pg", "--show-secrets")
        self.assertEqual((pg["host"], pg["port"], pg["password"], pg["description"]),
                         ("10.0.0.5", 5432, "pw-json", "from composer"))
        self.assertEqual(home.get("smtp", "--show-secrets")["password"], "pw: yaml")
        self.assertEqual(home.get("legacy", "--show-secrets")["extra_dejson"], {"token": "tok-yaml"})
        self.assertEqual(home.get("redis", "--show-secrets")["password"], "pw-env")
        self.assertEqual(home.get("mysql", "--show-secrets")["port"], 3306)

        again = home.run("connections", "import", "airflow.env")
        self.assertIn("Could not import connection redis: connection already exists.", again.stdout)
        (home.path / "changed.env").write_text("redis=redis://:new@cache:6379/1\n")
        home.run("connections", "import", "changed.env", "--overwrite")
        self.assertEqual(home.get("redis", "--show-secrets")["password"], "new")

        (home.path / "broken.json").write_text('{"ok": "http://h", "bad": "http://h:port/"}')
        result = home.run("connections", "import", "broken.json", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("connection bad", result.stderr)
        self.assertEqual(home.run("connections", "get", "ok", check=False).returncode, 1)  # all or nothing

    def test_secrets_are_never_in_clear_in_the_database_file(self):
        home = self.home
        add_sample_connections(home)
        home.run("variables", "set", "slack_token", "xoxb-variable-secret")
        data = home.database_bytes()
        self.assertIn(b"db.example.com", data)  # the right file: host names are not secret
        for secret in (PASSWORD, "xoxb-123-secret", "k-secret", "pässwörd€", "xoxb-variable-secret", "composer"):
            self.assertNotIn(secret.encode(), data)
        self.assertEqual(os.stat(home.path / "secret.key").st_mode & 0o777, 0o600)

    def test_a_wrong_key_is_refused_clearly(self):
        home = self.home
        add_sample_connections(home)
        result = home.run("connections", "get", "pg", env={"MAYAFLOW_SECRET_KEY": OTHER_KEY}, check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("cannot decrypt the password of connection 'pg'", result.stderr)
        self.assertIn("MAYAFLOW_SECRET_KEY", result.stderr)
        self.assertNotIn("S3cr3t", result.stdout + result.stderr)
        (home.path / "secret.key").rename(home.path / "moved.key")
        result = home.run("connections", "list", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no secret key is configured", result.stderr)

    def test_rotate_secret_key(self):
        home = self.home
        add_sample_connections(home)
        home.run("variables", "set", "v", "value")
        old_key = (home.path / "secret.key").read_text()
        result = home.run("rotate-secret-key")
        self.assertIn("Re-encrypted 7 secret values", result.stdout)  # 3 passwords, 3 extras and the variable
        self.assertNotEqual((home.path / "secret.key").read_text(), old_key)
        self.assertEqual(home.get("pg", "--show-secrets")["password"], PASSWORD)
        old = [line for line in old_key.splitlines() if not line.startswith("#")][0]
        stale = home.run("connections", "get", "pg", env={"MAYAFLOW_SECRET_KEY": old}, check=False)
        self.assertEqual(stale.returncode, 1)

        new = [line for line in (home.path / "secret.key").read_text().splitlines() if not line.startswith("#")][0]
        both = {"MAYAFLOW_SECRET_KEY": f"{OTHER_KEY},{new}"}
        self.assertIn("Re-encrypted 7 secret values", home.run("rotate-secret-key", env=both).stdout)
        only_other = {"MAYAFLOW_SECRET_KEY": OTHER_KEY}
        self.assertEqual(home.get("pg", "--show-secrets", env=only_other)["password"], PASSWORD)

    def test_environment_connections_win_and_say_so(self):
        home = self.home
        add_sample_connections(home)
        env = {"AIRFLOW_CONN_PG": "postgres://env:envpw@env-host:1/envdb",
               "MAYAFLOW_CONN_FROM_ENV": '{"conn_type": "http", "host": "json-host"}',
               "AIRFLOW_CONN_FROM_ENV": "http://loses"}
        self.assertEqual(home.get("pg", env=env)["host"], "env-host")
        self.assertEqual(home.get("from_env", env=env)["host"], "json-host")
        listed = {r["conn_id"]: r for r in json.loads(home.run("connections", "list", "-o", "json", env=env).stdout)}
        self.assertEqual(listed["pg"]["source"], "environment")
        self.assertEqual(listed["from_env"]["source"], "environment")
        self.assertEqual(listed["slack"]["source"], "database")
        self.assertNotIn("envpw", json.dumps(listed))

    def test_connection_test(self):
        home = self.home
        (home.path / "data").mkdir()
        home.run("connections", "add", "files", "--conn-type", "fs", "--conn-extra",
                 json.dumps({"path": str(home.path / "data")}))
        home.run("connections", "add", "gone", "--conn-type", "fs", "--conn-extra", '{"path": "/no/such/folder"}')
        ok = home.run("connections", "test", "files")
        self.assertEqual(ok.stdout, "Retrieving connection: 'files'\n\nTesting...\n\nConnection success!\n\n")
        failed = home.run("connections", "test", "gone")
        self.assertIn("Connection failed!\nthe path /no/such/folder does not exist", failed.stdout)
        missing = home.run("connections", "test", "nope", check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("Connection not found.", missing.stdout)


class VariablesTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()

    def tearDown(self):
        self.home.cleanup()

    def test_set_get_list_delete(self):
        home = self.home
        self.assertEqual(home.run("variables", "set", "dataset", "sales_raw").stdout, "Variable dataset created\n")
        home.run("variables", "set", "config", '{"key": "v", "n": 1}', "--description", "settings")
        self.assertEqual(home.run("variables", "get", "dataset").stdout, "sales_raw\n")
        self.assertEqual(json.loads(home.run("variables", "get", "config", "-j").stdout), {"key": "v", "n": 1})
        home.run("variables", "set", "wrapped", "text", "-j")
        self.assertEqual(home.run("variables", "get", "wrapped").stdout, '"text"\n')
        missing = home.run("variables", "get", "nope", check=False)
        self.assertEqual((missing.returncode, missing.stderr.strip()), (1, "error: Variable nope does not exist"))
        self.assertEqual(home.run("variables", "get", "nope", "-d", "fallback").stdout, "fallback\n")
        env = {"AIRFLOW_VAR_DATASET": "from_env", "MAYAFLOW_VAR_REGION": "eu"}
        self.assertEqual(home.run("variables", "get", "dataset", env=env).stdout, "from_env\n")
        listed = json.loads(home.run("variables", "list", "-o", "json", env=env).stdout)
        self.assertEqual({r["key"]: r["source"] for r in listed},
                         {"config": "database", "dataset": "environment", "region": "environment",
                          "wrapped": "database"})
        self.assertEqual(home.run("variables", "delete", "dataset").stdout, "Variable dataset deleted\n")
        self.assertEqual(home.run("variables", "get", "dataset", check=False).returncode, 1)

    def test_export_and_import_as_airflow_does(self):
        home = self.home
        home.run("variables", "set", "b_text", "plain")
        home.run("variables", "set", "a_json", '{"x": [1, 2]}')
        home.run("variables", "set", "c_number", "42")
        result = home.run("variables", "export", "vars.json")
        self.assertEqual(result.stdout, "3 variables successfully exported to vars.json\n")
        exported = (home.path / "vars.json").read_text()
        self.assertEqual(exported, json.dumps({"a_json": {"x": [1, 2]}, "b_text": "plain", "c_number": 42},
                                              sort_keys=True, indent=4))
        for key in ("a_json", "b_text", "c_number"):
            home.run("variables", "delete", key)
        self.assertEqual(home.run("variables", "import", "vars.json").stdout,
                         "3 of 3 variables successfully updated.\n")
        self.assertEqual(json.loads(home.run("variables", "get", "a_json").stdout), {"x": [1, 2]})
        self.assertEqual(home.run("variables", "get", "c_number").stdout, "42\n")

        (home.path / "more.json").write_text('{"b_text": "changed", "d_new": "new"}')
        failed = home.run("variables", "import", "more.json", "-a", "fail", check=False)
        self.assertEqual(failed.returncode, 1)
        self.assertIn("Failed. These keys: ['b_text'] already exists.", failed.stderr)
        skipped = home.run("variables", "import", "more.json", "-a", "skip").stdout
        self.assertIn("1 of 2 variables successfully updated.", skipped)
        self.assertIn("['b_text'] were skipped", skipped)
        self.assertEqual(home.run("variables", "get", "b_text").stdout, "plain\n")
        home.run("variables", "import", "more.json")
        self.assertEqual(home.run("variables", "get", "b_text").stdout, "changed\n")
        bad = home.run("variables", "import", "nothing.json", check=False)
        self.assertIn("Missing variables file.", bad.stderr)


if __name__ == "__main__":
    unittest.main()
