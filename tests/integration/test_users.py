"""Signing in to the real daemon: the admin `standalone` makes at its first start, the `users`
commands (which write the store while the daemon runs, and take effect at its next request),
API tokens, the session cookie with its CSRF token, and the throttle on failed sign-ins."""

import json
import os
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from daemon import MAYAFLOW, Daemon  # noqa: E402


class UsersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(copy_examples=False).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def users(self, *args, stdin=None):
        return subprocess.run([MAYAFLOW, "users", *args], env=self.daemon.env, capture_output=True, text=True,
                              timeout=60, stdin=stdin if stdin is not None else subprocess.DEVNULL)

    def as_user(self, path, username, password, method="GET"):
        return self.daemon.http(path, method=method, auth=self.daemon.auth_header(username, password))[0]

    def test_1_first_start_makes_an_admin_with_a_password_shown_once(self):
        password_file = os.path.join(self.daemon.home, "standalone_admin_password.txt")
        password = self.daemon.admin_password()
        self.assertEqual(len(password), 20)
        self.assertEqual(stat.S_IMODE(os.stat(password_file).st_mode), 0o600)
        self.assertIn("user admin, password %s" % password, self.daemon.banner)
        self.assertIn(password_file, self.daemon.banner)
        self.assertNotIn(password, self.daemon.read_log())
        # Every API route but health needs credentials now; the right ones get in.
        status, content_type, body = self.daemon.http("/api/v1/dags", auth=False)
        self.assertEqual(status, 401)
        self.assertEqual(content_type, "application/problem+json")
        self.assertEqual(self.daemon.http("/api/v1/health", auth=False)[0], 200)
        self.assertEqual(self.daemon.http("/api/v1/dags")[0], 200)
        self.assertEqual(self.as_user("/api/v1/dags", "admin", password + "x"), 401)
        status, _, body = self.daemon.http("/api/v1/users")
        self.assertEqual(status, 200, body)
        self.assertEqual([user["username"] for user in json.loads(body)["users"]], ["admin"])
        self.assertNotIn(password, body)

    def test_2_users_create_list_roles_and_passwords(self):
        result = self.users("create", "--username", "alice", "--password", "alice-pw", "--role", "OP",
                            "--email", "alice@example.com", "--firstname", "Alice", "--lastname", "Liddell")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('User "alice" created with role "Op"', result.stdout)
        self.assertEqual(self.as_user("/api/v1/dags", "alice", "alice-pw"), 200)
        self.assertEqual(self.as_user("/api/v1/users", "alice", "alice-pw"), 403)

        clash = self.users("create", "-u", "ALICE", "-p", "x", "-r", "viewer", "-e", "a@x", "-f", "A", "-l", "L")
        self.assertEqual(clash.returncode, 1)
        self.assertIn("already exist", clash.stderr)
        bad_role = self.users("create", "-u", "bob", "-p", "x", "-r", "root", "-e", "b@x", "-f", "B", "-l", "L")
        self.assertEqual(bad_role.returncode, 1)
        self.assertIn("Valid roles are", bad_role.stderr)
        no_password = self.users("create", "-u", "bob", "-r", "viewer", "-e", "b@x", "-f", "B", "-l", "L")
        self.assertEqual(no_password.returncode, 2)
        self.assertIn("--use-random-password", no_password.stderr)

        random = self.users("create", "-u", "bob", "-r", "viewer", "-e", "b@x", "-f", "B", "-l", "L",
                            "--use-random-password")
        self.assertEqual(random.returncode, 0, random.stderr)
        generated = random.stdout.split("Generated password: ")[1].split()[0]
        self.assertEqual(self.as_user("/api/v1/dags", "bob", generated), 200)

        listed = json.loads(self.users("list", "--output", "json").stdout)
        self.assertEqual([row["username"] for row in listed], ["admin", "alice", "bob"])
        self.assertEqual(listed[1]["roles"], "Op")
        self.assertNotIn("pbkdf2", json.dumps(listed))
        self.assertIn('- id: "1"\n  username: "admin"', self.users("list", "-o", "yaml").stdout)
        self.assertIn("alice\talice@example.com", self.users("list", "-o", "plain").stdout)

        # A role or a password changed by the CLI counts at the daemon's next request.
        self.assertEqual(self.as_user("/api/v1/users", "alice", "alice-pw"), 403)
        self.assertEqual(self.users("add-role", "-u", "alice", "-r", "admin").returncode, 0)
        self.assertEqual(self.as_user("/api/v1/users", "alice", "alice-pw"), 200)
        again = self.users("add-role", "-u", "alice", "-r", "Admin")
        self.assertEqual(again.returncode, 1)
        self.assertIn("already a member", again.stderr)
        self.assertEqual(self.users("remove-role", "-u", "alice", "-r", "ADMIN").returncode, 0)
        self.assertEqual(self.as_user("/api/v1/users", "alice", "alice-pw"), 403)
        reset = self.users("reset-password", "-u", "alice", "-p", "new-pw")
        self.assertEqual(reset.returncode, 0, reset.stderr)
        self.assertEqual(self.as_user("/api/v1/dags", "alice", "alice-pw"), 401)
        self.assertEqual(self.as_user("/api/v1/dags", "alice", "new-pw"), 200)

        self.assertEqual(self.users("delete", "-u", "bob").returncode, 0)
        self.assertEqual(self.as_user("/api/v1/dags", "bob", generated), 401)
        missing = self.users("delete", "-u", "bob")
        self.assertEqual(missing.returncode, 1)
        self.assertIn('User "bob" does not exist', missing.stderr)

    def test_3_tokens_work_until_revoked(self):
        made = self.users("create-token", "-u", "admin", "--name", "ci", "--expires-in", "30d")
        self.assertEqual(made.returncode, 0, made.stderr)
        token = made.stdout.strip()
        self.assertTrue(token.startswith("mf_"), token)
        bearer = "Bearer " + token
        self.assertEqual(self.daemon.http("/api/v1/dags", auth=bearer)[0], 200)
        listed = self.users("list-tokens", "-u", "admin", "-o", "json")
        self.assertNotIn(token, listed.stdout)
        rows = json.loads(listed.stdout)
        self.assertEqual(rows[0]["prefix"], token[:8])
        self.assertEqual(rows[0]["name"], "ci")
        self.assertEqual(self.users("revoke-token", "--id", rows[0]["id"]).returncode, 0)
        self.assertEqual(self.daemon.http("/api/v1/dags", auth=bearer)[0], 401)
        self.assertNotIn(token, self.daemon.read_log())
        self.assertEqual(self.users("create-token", "-u", "nobody").returncode, 1)
        self.assertEqual(self.users("create-token", "-u", "admin", "--expires-in", "soon").returncode, 2)

    def test_4_session_cookie_and_csrf(self):
        status, _, body = self.daemon.http(
            "/api/v1/mayaflow/session", method="POST", auth=False,
            body=json.dumps({"username": "admin", "password": self.daemon.admin_password()}))
        self.assertEqual(status, 200, body)
        csrf = json.loads(body)["csrf_token"]
        # urllib keeps no cookies: sign in again by hand to read Set-Cookie.
        import urllib.request
        request = urllib.request.Request(
            "http://127.0.0.1:%d/api/v1/mayaflow/session" % self.daemon.port, method="POST",
            data=json.dumps({"username": "admin", "password": self.daemon.admin_password()}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            set_cookie = answer.headers["Set-Cookie"]
            csrf = json.loads(answer.read())["csrf_token"]
        self.assertIn("HttpOnly", set_cookie)
        self.assertIn("SameSite=Strict", set_cookie)
        cookie = {"Cookie": set_cookie.split(";")[0]}
        status, _, body = self.daemon.http("/api/v1/mayaflow/session", auth=False, headers=cookie)
        self.assertEqual(json.loads(body)["csrf_token"], csrf)
        self.assertEqual(self.daemon.http("/api/v1/mayaflow/session", method="DELETE", auth=False, headers=cookie)[0], 403)
        self.assertEqual(self.daemon.http("/api/v1/mayaflow/session", method="DELETE", auth=False,
                                          headers=dict(cookie, **{"X-CSRF-Token": csrf}))[0], 204)
        self.assertEqual(self.daemon.http("/api/v1/mayaflow/session", auth=False, headers=cookie)[0], 401)


class ThrottleTest(unittest.TestCase):
    """On a daemon of its own: the failures of the other tests would count from the same address."""

    def test_failed_sign_ins_are_throttled(self):
        daemon = Daemon(copy_examples=False).start()
        try:
            # A user of its own: a password check that succeeded is remembered, and the admin's has
            # been (the document check signs in as the admin), so the admin's right password would pass.
            daemon.cli("users", "create", "-u", "carol", "-p", "carol-pw", "-r", "Viewer", "-e", "c@x", "-f", "C",
                       "-l", "L", check=True)
            for _ in range(5):
                status = daemon.http("/api/v1/dags", auth=daemon.auth_header("carol", "guess"))[0]
                self.assertEqual(status, 401)
            # Even the right password waits now, and the answer says how long.
            import urllib.error
            import urllib.request
            request = urllib.request.Request("http://127.0.0.1:%d/api/v1/dags" % daemon.port,
                                             headers={"Authorization": daemon.auth_header("carol", "carol-pw")})
            with self.assertRaises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(request, timeout=10)
            self.assertEqual(caught.exception.code, 429)
            self.assertTrue(1 <= int(caught.exception.headers["Retry-After"]) <= 30)
            self.assertNotIn("guess", daemon.read_log())
            self.assertNotIn(daemon.admin_password(), daemon.read_log())
        finally:
            daemon.cleanup()


class RestartTest(unittest.TestCase):
    def test_a_later_start_says_where_the_password_is_not_what(self):
        daemon = Daemon(copy_examples=False).start()
        try:
            password = daemon.admin_password()
            daemon.stop()
            daemon.start()
            self.assertNotIn(password, daemon.banner)
            self.assertIn("standalone_admin_password.txt", daemon.banner)
            self.assertEqual(daemon.http("/api/v1/dags")[0], 200)
        finally:
            daemon.cleanup()

    def test_auth_off_is_explicit(self):
        daemon = Daemon(copy_examples=False, env={"MAYAFLOW_API_AUTH": "off"}).start()
        try:
            self.assertEqual(daemon.http("/api/v1/dags", auth=False)[0], 200)
            self.assertEqual(daemon.http("/api/v1/users", auth=False)[0], 403)  # a Viewer
            self.assertFalse(os.path.exists(os.path.join(daemon.home, "standalone_admin_password.txt")))
        finally:
            daemon.cleanup()
        bad = Daemon(copy_examples=False, env={"MAYAFLOW_API_AUTH": "maybe"})
        try:
            with self.assertRaises(RuntimeError):
                bad.start(timeout=20)
            self.assertIn("MAYAFLOW_API_AUTH", bad.read_log())
        finally:
            bad.cleanup()


if __name__ == "__main__":
    unittest.main()
