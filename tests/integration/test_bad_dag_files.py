"""Files that are not UTF-8 (in their name, their text, or a file they include) are each an import
error of their own: the daemon starts and keeps running, the files after them load, deletions are
noticed, the API answers JSON about them, and a file that failed is not parsed again until it or
an include changes."""

import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import Daemon, wait_for  # noqa: E402

GOOD = "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: echo {n}\n"
LATIN1 = b"description: caf\xe9 cr\xe8me\ntasks:\n  - task_id: a\n    operator: empty\n"
USES_INCLUDE = "tasks:\n  - task_id: a\n    operator: bash\n    bash_command: _latin1.sh\n"


class BadDagFilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(copy_examples=False)
        d = cls.daemon
        d.write_dag("a_good.yaml", GOOD.format(n=1))
        d.write_dag(b"b_\xff.yaml", GOOD.format(n=2).encode())
        d.write_dag(b"c_\xe9t\xe9.yaml", GOOD.format(n=3).encode())
        d.write_dag("d_latin1.yaml", LATIN1)
        d.write_dag("_latin1.sh", b"echo caf\xe9\n")
        d.write_dag("e_uses_latin1_include.yaml", USES_INCLUDE)
        d.write_dag(b"team/f_\xc3(.yaml", GOOD.format(n=4).encode())  # a broken two-byte sequence
        d.write_dag("z_good.yaml", GOOD.format(n=5))
        d.start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def api_import_errors(self):
        status, content_type, body = self.daemon.http("/api/v1/importErrors")
        self.assertEqual(status, 200, body)
        self.assertEqual(content_type, "application/json")
        return {error["filename"]: error for error in json.loads(body)["import_errors"]}

    def error_for(self, ending):
        errors = self.api_import_errors()
        found = [error for name, error in errors.items() if name.endswith(ending)]
        self.assertEqual(len(found), 1, "no single import error for %s in %s" % (ending, sorted(errors)))
        return found[0]

    def test_1_start_up_survives_and_loads_the_other_files(self):
        self.assertIsNone(self.daemon.process.poll())
        self.assertIn("a_good", self.daemon.dag_ids())
        self.assertIn("z_good", self.daemon.dag_ids())

    def test_2_each_bad_file_is_its_own_import_error_naming_it(self):
        for ending in ["/b_\\xff.yaml", "/c_\\xe9t\\xe9.yaml", "/team/f_\\xc3(.yaml"]:
            error = self.error_for(ending)
            self.assertIn(ending[1:] + ": the file name is not valid UTF-8", error["stack_trace"])
            self.assertIn("rename the file", error["stack_trace"])
        for ending in ["/d_latin1.yaml", "/e_uses_latin1_include.yaml"]:
            error = self.error_for(ending)
            self.assertIn(ending[1:], error["stack_trace"])
        self.assertEqual(len(self.daemon.import_errors()), 5)  # the CLI reads them too

    def test_3_paths_that_are_not_utf8_get_problem_json(self):
        for path in ["/api/v1/dags/%ff", "/api/v1/dags/%C3%28", "/api/v1/dags/%ED%A0%80", "/api/v1/%ff",
                     "/api/v1/dags?limit=%fe", "/%80%80"]:
            status, content_type, body = self.daemon.http(path)
            self.assertIn(status, (400, 404), path)
            self.assertEqual(content_type, "application/problem+json", path)
            self.assertEqual(json.loads(body)["status"], status, path)
        # The raw bytes themselves in the request line, not %-escaped.
        with socket.create_connection(("127.0.0.1", self.daemon.port), timeout=10) as s:
            s.sendall(b"GET /api/v1/dags/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
        self.assertRegex(answer.split(b"\r\n", 1)[0], rb"^HTTP/1\.1 4\d\d ")
        self.assertEqual(self.daemon.http("/api/v1/health")[0], 200)

    def test_4_files_after_a_new_bad_one_load_and_deletions_are_noticed(self):
        self.daemon.write_dag(b"late_\xfe.yaml", GOOD.format(n=6).encode())
        self.daemon.write_dag("late_latin1.yaml", LATIN1)
        self.daemon.write_dag("zz_late.yaml", GOOD.format(n=7))
        os.remove(os.path.join(self.daemon.dags, "z_good.yaml"))
        wait_for(lambda: "zz_late" in self.daemon.dag_ids() and "z_good" not in self.daemon.dag_ids())
        wait_for(lambda: any(name.endswith("/late_\\xfe.yaml") for name in self.api_import_errors()))
        self.error_for("/late_latin1.yaml")
        # A bad file that is removed takes its import error with it.
        os.remove(os.path.join(os.fsencode(self.daemon.dags), b"late_\xfe.yaml"))
        wait_for(lambda: not any(name.endswith("/late_\\xfe.yaml") for name in self.api_import_errors()))

    def test_5_a_failing_file_is_parsed_once_until_it_or_an_include_changes(self):
        first = self.error_for("/e_uses_latin1_include.yaml")["timestamp"]
        other = self.error_for("/d_latin1.yaml")["timestamp"]
        time.sleep(1.5)  # several scan intervals (200 ms here)
        self.assertEqual(self.error_for("/e_uses_latin1_include.yaml")["timestamp"], first)
        self.assertEqual(self.error_for("/d_latin1.yaml")["timestamp"], other)
        self.daemon.write_dag("_latin1.sh", b"echo cr\xe8me\n")
        wait_for(lambda: self.error_for("/e_uses_latin1_include.yaml")["timestamp"] != first)
        self.assertEqual(self.error_for("/d_latin1.yaml")["timestamp"], other)
        # Fixed, it loads.
        self.daemon.write_dag("_latin1.sh", "echo café\n")
        wait_for(lambda: "e_uses_latin1_include" in self.daemon.dag_ids())

    def test_6_a_restart_with_the_bad_files_still_there_starts(self):
        self.assertEqual(self.daemon.stop(), 0)
        self.daemon.start()
        self.assertIn("a_good", self.daemon.dag_ids())
        self.error_for("/b_\\xff.yaml")
        self.assertEqual(self.daemon.http("/api/v1/importErrors")[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
