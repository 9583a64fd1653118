#!/usr/bin/python3
"""Tests of the Firebase Realtime Database stand-in and the Slack incoming-webhook recorder.

Run from the repository root:
    /usr/bin/python3 -m unittest -v tests/fakes/test_firebase_slack_fakes.py
Each test class starts its servers as subprocesses on port 0 (`python3 -m firebase_fake` / `-m slack_fake` with
tests/fakes as the working directory) and stops them afterwards; every HTTP call and wait has a time limit.
"""
import http.client
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
HTTP_TIMEOUT = 10
TOKEN = "fb-test-token"
SECRET = "fb-test-secret"
EMAIL = "https://www.googleapis.com/auth/userinfo.email"
DATABASE = "https://www.googleapis.com/auth/firebase.database"

MSG_JSON = "Invalid data; couldn't parse JSON object, array, or value."
MSG_PATH = "Invalid path: Invalid token in path"
MSG_TOO_BIG = "Data to write exceeds the maximum size that can be modified with a single request."
MSG_DEPTH = "Invalid data; path specified exceeds the maximum depth that can be written (32)."
MSG_PATCH_OBJECT = "Invalid data; couldn't parse JSON object. Are you sending a JSON object with valid key names?"


def msg_key(line, col):
    return ("Invalid data; couldn't parse key beginning at %d:%d. Key value can't be empty or contain "
            "$ # [ ] / or ." % (line, col))


def msg_key_long(line, col):
    return "Invalid data; couldn't parse key beginning at %d:%d. Key value can't be longer than 768 bytes." % (line, col)


class Proc:
    """One stand-in as a subprocess: started on port 0, its ready line read within 15 s."""

    def __init__(self, module, args=()):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([PY, "-m", module, "--port", "0"] + list(args), cwd=HERE,
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        ready, _, _ = select.select([self.proc.stdout], [], [], 15)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stderr.seek(0)
            err = self.stderr.read().decode(errors="replace")
            self.stop()
            raise RuntimeError("%s did not start: %s" % (module, err))
        self.info = json.loads(line)
        self.port = self.info["port"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc.stdout.close()
        self.stderr.close()

    def request(self, method, path, body=None, headers=None):
        """(status, headers, body bytes). Raises on a dropped connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            if isinstance(body, str):
                body = body.encode("utf-8")
            conn.request(method, path, body=body, headers=dict(headers or {}))
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def ctl(self, method, path, obj=None, query=""):
        data = json.dumps(obj).encode() if obj is not None else None
        st, _, body = self.request(method, "/_fake/" + path + query, data, {"Content-Type": "application/json"})
        assert st == 200, (st, body)
        return json.loads(body)


# ====================================================================================================== Firebase

class FirebaseCase(unittest.TestCase):
    fb = None

    @classmethod
    def setUpClass(cls):
        cls.fb = Proc("firebase_fake", ["--static-token", TOKEN, "--secret", SECRET])

    @classmethod
    def tearDownClass(cls):
        cls.fb.stop()

    def setUp(self):
        self.fb.ctl("POST", "reset", {"tokens": True})

    def call(self, method, path, body=None, token=TOKEN, query=None, headers=None, raw=False):
        """A REST call; body is JSON-encoded unless it is str/bytes. Returns (status, parsed JSON or text)."""
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = "Bearer " + token
        data = body if isinstance(body, (str, bytes)) or body is None else json.dumps(body)
        if data is None and method in ("PUT", "PATCH", "POST"):
            data = b"null"
        st, rh, payload = self.fb.request(method, path, data, hdrs)
        if raw:
            return st, rh, payload
        try:
            return st, json.loads(payload) if payload else None
        except ValueError:
            return st, payload.decode()

    def dump(self, ns=None, raw=False):
        q = "?" + urllib.parse.urlencode(dict(([("ns", ns)] if ns else []) + ([("raw", "1")] if raw else [])))
        return self.fb.ctl("GET", "db", query=q if q != "?" else "")

    def assertError(self, result, status, message):
        self.assertEqual(result, (status, {"error": message}))


class FirebaseBasics(FirebaseCase):
    def test_ready_line(self):
        info = self.fb.info
        self.assertEqual(info["base_url"], "http://127.0.0.1:%d" % info["port"])
        self.assertEqual(info["env"]["FIREBASE_DATABASE_EMULATOR_HOST"], "127.0.0.1:%d" % info["port"])
        self.assertEqual(info["database_url"], "%s?ns=%s" % (info["base_url"], info["namespace"]))
        self.assertEqual(self.fb.ctl("GET", "health"), {"ok": True})

    def test_put_replaces_and_echoes(self):
        self.assertEqual(self.call("PUT", "/users/jack.json", {"first": "Jack", "last": "Sparrow"}),
                         (200, {"first": "Jack", "last": "Sparrow"}))
        self.assertEqual(self.call("PUT", "/users/jack.json", {"first": "J"}), (200, {"first": "J"}))
        self.assertEqual(self.call("GET", "/users.json"), (200, {"jack": {"first": "J"}}))
        self.assertEqual(self.call("GET", "/users/jack/first.json"), (200, "J"))
        self.assertEqual(self.call("GET", "/nobody.json"), (200, None))
        # the documentation's trailing-slash form and a root write
        self.assertEqual(self.call("GET", "/users/jack/.json"), (200, {"first": "J"}))
        self.assertEqual(self.call("PUT", "/.json", {"r": 1}), (200, {"r": 1}))
        self.assertEqual(self.dump(), {"r": 1})

    def test_patch_replaces_named_children_only(self):
        self.call("PUT", "/u.json", {"a": {"x": 1, "y": 2}, "b": 1})
        self.assertEqual(self.call("PATCH", "/u.json", {"a": {"x": 5}, "c": True}), (200, {"a": {"x": 5}, "c": True}))
        # each named child is replaced, not deep-merged: a.y is gone, b is kept
        self.assertEqual(self.dump(), {"u": {"a": {"x": 5}, "b": 1, "c": True}})

    def test_patch_multi_location(self):
        self.call("PUT", "/.json", {"users": {"alan": {"name": "Alan", "nick": "A"}, "grace": {"name": "Grace"}}})
        st, echo = self.call("PATCH", "/users.json", {"alan/nick": "Alan The Machine", "grace/nick": "Amazing Grace",
                                                      "/new//deep/": 1})
        self.assertEqual(st, 200)
        self.assertEqual(echo, {"alan/nick": "Alan The Machine", "grace/nick": "Amazing Grace", "/new//deep/": 1})
        self.assertEqual(self.dump(), {"users": {"alan": {"name": "Alan", "nick": "Alan The Machine"},
                                                 "grace": {"name": "Grace", "nick": "Amazing Grace"},
                                                 "new": {"deep": 1}}})

    def test_patch_overlapping_paths_refused_atomically(self):
        self.call("PUT", "/.json", {"a": {"b": 1}, "z": 1})
        for body in ({"a": 1, "a/b": 2}, {"x": 1, "a/b": 2, "a/b/c": 3}, {"a/b": 1, "/a/b/": 2}):
            st, err = self.call("PATCH", "/.json", body)
            self.assertEqual(st, 400, body)
            self.assertIn("ancestor", err["error"])
        self.assertEqual(self.dump(), {"a": {"b": 1}, "z": 1})

    def test_patch_needs_an_object(self):
        for body in ("1", '"s"', "null", "[1,2]"):
            self.assertError(self.call("PATCH", "/p.json", body), 400, MSG_PATCH_OBJECT)
        self.assertEqual(self.call("PATCH", "/p.json", {}), (200, {}))
        self.assertIsNone(self.dump())

    def test_null_deletes_and_empty_objects_vanish(self):
        self.call("PUT", "/.json", {"p": {"q": {"r": 1}}, "keep": 1})
        self.assertEqual(self.call("PUT", "/p/q/r.json", None), (200, None))
        self.assertEqual(self.dump(), {"keep": 1})  # p/q and p were left empty and vanished
        self.assertEqual(self.call("PUT", "/n.json", {"a": None, "b": 1, "e": {}, "f": {"g": {}}, "h": [None]}),
                         (200, {"b": 1}))
        self.assertEqual(self.call("PUT", "/only-empty.json", {"e": {}, "n": None}), (200, None))
        self.assertEqual(self.call("GET", "/only-empty.json"), (200, None))
        self.call("PATCH", "/n.json", {"b": None, "c": 2})
        self.assertEqual(self.dump(), {"keep": 1, "n": {"c": 2}})
        self.call("PATCH", "/.json", {"n/c": None})
        self.assertEqual(self.dump(), {"keep": 1})
        self.assertEqual(self.call("DELETE", "/keep.json"), (200, None))
        self.assertIsNone(self.dump())
        self.assertEqual(self.call("DELETE", "/never/was.json"), (200, None))

    def test_print_silent_and_pretty(self):
        for method, path, body in (("PUT", "/s.json", {"a": 1}), ("PATCH", "/s.json", {"b": 2}),
                                   ("POST", "/list.json", {"c": 3}), ("DELETE", "/s/a.json", None)):
            st, hdrs, payload = self.call(method, path + "?print=silent", body, raw=True)
            self.assertEqual((st, payload), (204, b""), method)
            self.assertNotIn("content-length", hdrs)
        self.assertEqual(self.call("GET", "/s.json"), (200, {"b": 2}))
        self.assertEqual(len(self.call("GET", "/list.json")[1]), 1)
        st, _, payload = self.call("GET", "/s.json?print=pretty", raw=True)
        self.assertEqual(payload.decode(), '{\n  "b" : 2\n}')

    def test_arrays(self):
        self.assertEqual(self.call("PUT", "/arr.json", ["a", "b", "c"]), (200, ["a", "b", "c"]))
        self.assertEqual(self.dump(raw=True), {"arr": {"0": "a", "1": "b", "2": "c"}})
        self.call("DELETE", "/arr/0.json")
        self.assertEqual(self.call("GET", "/arr.json"), (200, [None, "b", "c"]))  # 2 of 3 present
        self.call("DELETE", "/arr/1.json")
        self.assertEqual(self.call("GET", "/arr.json"), (200, {"2": "c"}))  # 1 of 3: not more than half
        self.assertEqual(self.call("PUT", "/x.json", [1, None, 3]), (200, [1, None, 3]))
        self.assertEqual(self.call("PUT", "/x.json", {"0": "a", "1": "b"}), (200, ["a", "b"]))
        self.assertEqual(self.call("PUT", "/x.json", {"0": "a", "1": "b", "3": "d"}), (200, ["a", "b", None, "d"]))
        self.assertEqual(self.call("PUT", "/x.json", {"0": "a", "5": "f"}), (200, {"0": "a", "5": "f"}))
        self.assertEqual(self.call("PUT", "/x.json", {"1": "b"}), (200, {"1": "b"}))
        self.assertEqual(self.call("PUT", "/x.json", {"0": "a", "01": "b"}), (200, {"0": "a", "01": "b"}))
        self.assertEqual(self.call("PUT", "/x.json", {"0": "a", "b": "b"}), (200, {"0": "a", "b": "b"}))
        self.assertEqual(self.call("PUT", "/x.json", {"0": "a", "-1": "b"}), (200, {"-1": "b", "0": "a"}))
        self.assertEqual(self.call("PUT", "/x.json", [[1, 2], {"k": [3]}]), (200, [[1, 2], {"k": [3]}]))
        self.assertEqual(self.dump(raw=True)["x"], {"0": {"0": 1, "1": 2}, "1": {"k": {"0": 3}}})
        self.assertEqual(self.call("PUT", "/x.json", []), (200, None))

    def test_values(self):
        self.assertEqual(self.call("PUT", "/v.json", '{"f": 1.0, "g": 1.5, "t": true, "s": "日本", "n": -0.0}'),
                         (200, {"f": 1, "g": 1.5, "n": 0, "s": "日本", "t": True}))
        st, _, payload = self.call("GET", "/v/f.json", raw=True)
        self.assertEqual(payload, b"1")
        self.assertEqual(self.call("PUT", "/v.json", '"x"'), (200, "x"))
        self.assertEqual(self.call("PUT", "/v.json", "false"), (200, False))

    def test_invalid_json(self):
        for body in ("{bad", "NaN", '{"a": Infinity}', "[1,]", "", "1e400", b"\xff", '{"a":1}x'):
            self.assertError(self.call("PUT", "/j.json", body), 400, MSG_JSON)
        self.assertIsNone(self.dump())

    def test_no_json_suffix(self):
        st, hdrs, payload = self.call("GET", "/users", raw=True)
        self.assertEqual((st, payload.decode()), (405, "append .json to your request URI to use the REST API."))
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        self.assertEqual(self.call("PUT", "/users", {"a": 1})[0], 405)
        self.assertIsNone(self.dump())

    def test_server_values_and_push(self):
        before = int(time.time() * 1000)
        st, out = self.call("PUT", "/sv.json", {"at": {".sv": "timestamp"}, "n": {".sv": {"increment": 2}}})
        self.assertEqual(st, 200)
        self.assertTrue(before <= out["at"] <= int(time.time() * 1000) + 1)
        self.assertEqual(out["n"], 2)
        self.call("PATCH", "/sv.json", {"n": {".sv": {"increment": 3}}})
        self.assertEqual(self.call("GET", "/sv/n.json"), (200, 5))
        self.assertEqual(self.call("PUT", "/p.json", {".value": 7, ".priority": 1}), (200, 7))
        self.assertEqual(self.call("PUT", "/sv.json", {"x": {".sv": "nope"}})[0], 400)
        names = [self.call("POST", "/msgs.json", {"i": i})[1]["name"] for i in range(3)]
        for n in names:
            self.assertRegex(n, r"^[-0-9A-Za-z_]{20}$")
        self.assertEqual(names, sorted(names))
        self.assertEqual(list(self.call("GET", "/msgs.json")[1]), names)

    def test_shallow_etag_override_and_queries(self):
        self.call("PUT", "/.json", {"a": {"b": 1}, "c": 2})
        self.assertEqual(self.call("GET", "/.json?shallow=true"), (200, {"a": True, "c": 2}))
        st, hdrs, _ = self.call("GET", "/a.json", headers={"X-Firebase-ETag": "true"}, raw=True)
        tag = hdrs["etag"]
        self.assertEqual(self.call("PUT", "/a.json", {"b": 2}, headers={"if-match": "wrong"}), (412, {"b": 1}))
        self.assertEqual(self.call("PUT", "/a.json", {"b": 2}, headers={"if-match": tag}), (200, {"b": 2}))
        st, hdrs, _ = self.call("GET", "/none.json", headers={"X-Firebase-ETag": "true"}, raw=True)
        self.assertEqual(hdrs["etag"], "null_etag")
        self.assertEqual(self.call("POST", "/a.json", {"z": 1}, headers={"X-HTTP-Method-Override": "PATCH"}),
                         (200, {"z": 1}))
        self.assertEqual(self.dump()["a"], {"b": 2, "z": 1})
        self.assertError(self.call("GET", "/.json?limitToFirst=1"), 400,
                         "orderBy must be defined when other query parameters are defined")
        self.assertEqual(self.call("GET", '/.json?orderBy="$key"')[0], 400)


class FirebaseKeysAndLimits(FirebaseCase):
    def test_forbidden_characters_at_depth(self):
        self.call("PUT", "/keep.json", 1)
        for ch in (".", "$", "#", "[", "]", "/", "\u0000", "\u0001", "\u001f", "\u007f", "\n"):
            key = "a%sb" % ch
            body = '{"ok": {"deep": {%s: 1}}}' % json.dumps(key)
            col = body.index(json.dumps(key)) + 1
            self.assertError(self.call("PUT", "/x.json", body), 400, msg_key(1, col))
        self.assertError(self.call("PUT", "/x.json", '{"":1}'), 400, msg_key(1, 2))
        self.assertError(self.call("PUT", "/x.json", '{"a.b": 1}'), 400, msg_key(1, 2))
        # the first bad key in the text is reported, with its line and column
        body = '{\n  "good": {"x": 1},\n  "li$t": [ {"b#d": 1} ]\n}'
        self.assertError(self.call("PUT", "/x.json", body), 400, msg_key(3, 3))
        body = '[{"ok": 1}, {"ok": {"b]d": null}}]'
        self.assertError(self.call("PUT", "/x.json", body), 400, msg_key(1, 21))
        # PATCH: top-level keys are paths (slashes allowed), nested keys are keys
        self.assertError(self.call("PATCH", "/x.json", '{"a/b.c": 1}'), 400, msg_key(1, 2))
        self.assertError(self.call("PATCH", "/x.json", '{"a/b": {"c/d": 1}}'), 400, msg_key(1, 10))
        self.assertEqual(self.dump(), {"keep": 1})

    def test_key_length_in_utf8_bytes(self):
        cases = [("a" * 768, True), ("a" * 769, False),
                 ("é" * 384, True), ("é" * 384 + "a", False),          # 2-byte characters
                 ("日" * 256, True), ("日" * 255 + "ab", True), ("日" * 256 + "a", False),  # 3-byte
                 ("😀" * 192, True), ("😀" * 191 + "abcde", False)]      # 4-byte
        for key, ok in cases:
            nbytes = len(key.encode("utf-8"))
            body = json.dumps({"k": {key: 1}}, ensure_ascii=False)
            st, out = self.call("PUT", "/len.json", body)
            if ok:
                self.assertEqual((st, out), (200, {"k": {key: 1}}), nbytes)
                self.assertEqual(self.call("GET", "/len/k.json"), (200, {key: 1}))
            else:
                self.assertEqual((st, out), (400, {"error": msg_key_long(1, 8)}), nbytes)
            # the same key as a path segment, percent-encoded
            st, out = self.call("PUT", "/len2/%s.json" % urllib.parse.quote(key), 1)
            self.assertEqual((st, out), (200, 1) if ok else (400, {"error": MSG_PATH}), nbytes)
        # escaped (\\u) keys are counted after decoding
        st, _ = self.call("PUT", "/len3.json", json.dumps({"é" * 385: 1}))  # ASCII-escaped JSON, 770 bytes
        self.assertEqual(st, 400)

    def test_depth(self):
        def nested(n):
            v = 1
            for i in range(n, 0, -1):
                v = {"k%d" % i: v}
            return v
        self.assertEqual(self.call("PUT", "/.json", nested(32))[0], 200)
        self.assertError(self.call("PUT", "/.json", nested(33)), 400, MSG_DEPTH)
        # depth counts the path too: 30 path segments + 2 levels is fine, + 3 is not
        path = "/" + "/".join("p%d" % i for i in range(30))
        self.assertEqual(self.call("PUT", path + ".json", nested(2))[0], 200)
        self.assertError(self.call("PUT", path + ".json", nested(3)), 400, MSG_DEPTH)
        self.assertError(self.call("PATCH", path + ".json", {"a/b/c": 1}), 400, MSG_DEPTH)
        self.assertEqual(self.call("PATCH", path + ".json", {"a/b": 1})[0], 200)
        # arrays count as levels
        self.assertError(self.call("PUT", path + ".json", [[[1]]]), 400, MSG_DEPTH)
        deep = "/" + "/".join("q%d" % i for i in range(33))
        self.assertError(self.call("GET", deep + ".json"), 400, MSG_DEPTH)
        self.assertEqual(self.call("PUT", "/" + "/".join("q%d" % i for i in range(32)) + ".json", 1)[0], 200)
        self.assertError(self.call("PUT", "/.json", "[" * 2000 + "]" * 2000), 400, MSG_DEPTH)

    def test_invalid_paths(self):
        for p in ("/a.b.json", "/a%24b.json", "/a%23b.json", "/a%5Bb%5D.json", "/a%01b.json", "/x/.settings/rules.json",
                  "/a%FFb.json"):
            self.assertError(self.call("PUT", p, 1), 400, MSG_PATH)
            self.assertError(self.call("GET", p), 400, MSG_PATH)
        # a percent-encoded slash separates segments, empty segments are dropped
        self.assertEqual(self.call("PUT", "/a%2Fb//c.json", 1), (200, 1))
        self.assertEqual(self.dump(), {"a": {"b": {"c": 1}}})
        self.assertEqual(self.call("GET", "/%E6%97%A5%20x.json"), (200, None))

    def test_write_size_limits(self):
        self.fb.ctl("POST", "config", {"max_write_bytes": 100})
        body = json.dumps({"s": "x" * 91})
        self.assertEqual(len(body), 100)
        self.assertEqual(self.call("PUT", "/w.json", body)[0], 200)
        self.assertError(self.call("PUT", "/w.json", json.dumps({"s": "x" * 92})), 400, MSG_TOO_BIG)
        self.assertError(self.call("PATCH", "/w.json", json.dumps({"s": "y" * 92})), 400, MSG_TOO_BIG)
        self.assertEqual(self.call("GET", "/w/s.json"), (200, "x" * 91))
        self.fb.ctl("POST", "config", {"max_write_bytes": 1 << 20, "max_string_bytes": 10})
        self.assertEqual(self.call("PUT", "/w.json", {"s": "é" * 5})[0], 200)  # 10 bytes
        st, err = self.call("PUT", "/w.json", {"s": "é" * 5 + "a"})
        self.assertEqual(st, 400)
        self.assertIn("exceeds the maximum size of 10 bytes", err["error"])
        self.assertEqual(self.call("GET", "/w/s.json"), (200, "é" * 5))

    def test_default_limits(self):
        self.assertEqual(self.fb.ctl("GET", "config"),
                         {"max_write_bytes": 256 * 1024 * 1024, "max_string_bytes": 10 * 1024 * 1024, "open": False})
        big = "x" * (10 * 1024 * 1024 + 1)
        st, err = self.call("PUT", "/big.json", json.dumps(big))
        self.assertEqual(st, 400)
        self.assertIn("10485760", err["error"])
        self.assertEqual(self.call("PUT", "/big.json?print=silent", json.dumps(big[:-1]))[0], 204)


class FirebaseAuthAndNamespaces(FirebaseCase):
    def test_auth(self):
        denied = (401, {"error": "Permission denied"})
        self.assertEqual(self.call("GET", "/.json", token=None), denied)
        st, _, payload = self.call("PUT", "/a.json", 1, token=None, raw=True)
        self.assertEqual((st, payload), (401, b'{\n  "error" : "Permission denied"\n}'))
        self.assertEqual(self.call("GET", "/.json", token="wrong"), denied)
        self.assertEqual(self.call("GET", "/.json", token=None, headers={"Authorization": "Basic " + TOKEN}), denied)
        self.assertEqual(self.call("GET", "/.json", token="owner"), denied)  # only with --emulator
        self.assertEqual(self.call("GET", "/.json", token=None, query={"access_token": TOKEN}), (200, None))
        self.assertEqual(self.call("GET", "/.json", token=None, query={"access_token": "nope"}), denied)
        self.assertEqual(self.call("GET", "/.json", token=None, query={"auth": SECRET}), (200, None))
        self.assertError(self.call("GET", "/.json", token=None, query={"auth": "nope"}), 401,
                         "Could not parse auth token.")
        # tokens registered later, with and without the two scopes, and expiry
        self.fb.ctl("POST", "tokens", {"token": "both", "scopes": [EMAIL, DATABASE]})
        self.fb.ctl("POST", "tokens", {"token": "no-email", "scopes": [DATABASE]})
        self.fb.ctl("POST", "tokens", {"token": "cloud", "scopes": "https://www.googleapis.com/auth/cloud-platform"})
        self.assertEqual(self.call("PUT", "/a.json", 1, token="both"), (200, 1))
        self.assertEqual(self.call("PUT", "/a.json", 2, token="no-email"), denied)
        self.assertEqual(self.call("PUT", "/a.json", 2, token="cloud"), denied)
        self.fb.ctl("POST", "tokens/expire", {"token": "both"})
        self.assertEqual(self.call("GET", "/a.json", token="both"), denied)
        self.fb.ctl("POST", "secrets", {"secret": "s2"})
        self.assertEqual(self.call("GET", "/a.json", token=None, query={"auth": "s2"}), (200, 1))
        self.assertEqual(self.dump(), {"a": 1})
        log = self.fb.ctl("GET", "requests")
        self.assertEqual(log[-1]["query"], {"auth": "<redacted>"})
        self.assertEqual([e["auth"] for e in log[:2]], [None, None])
        # a reset with tokens forgets registered tokens and keeps the command line's
        self.fb.ctl("POST", "reset", {"tokens": True})
        self.assertEqual(self.call("GET", "/.json", token="no-email"), denied)
        self.assertEqual(self.call("GET", "/.json"), (200, None))

    def test_emulator_owner(self):
        emu = Proc("firebase_fake", ["--emulator", "--ns", "demo-db"])
        try:
            self.assertTrue(emu.info["emulator"])
            st, _, body = emu.request("PUT", "/x.json", b"1", {"Authorization": "Bearer owner"})
            self.assertEqual((st, body), (200, b"1"))
            st, _, body = emu.request("GET", "/x.json?ns=demo-db", None, {"Authorization": "Bearer owner"})
            self.assertEqual((st, body), (200, b"1"))
            st, _, _ = emu.request("GET", "/x.json", None, {})
            self.assertEqual(st, 401)
            st, _, _ = emu.request("GET", "/x.json?access_token=owner", None, {})
            self.assertEqual(st, 401)
        finally:
            emu.stop()
        self.assertIsNotNone(emu.proc.returncode)

    def test_namespaces_are_separate(self):
        self.assertEqual(self.call("PUT", "/k.json?ns=alpha", "1"), (200, 1))
        self.assertEqual(self.call("PUT", "/k.json?ns=beta", "2"), (200, 2))
        self.assertEqual(self.call("PUT", "/k.json", "3"), (200, 3))
        self.assertEqual(self.call("GET", "/k.json?ns=alpha"), (200, 1))
        self.assertEqual(self.call("GET", "/k.json?ns=beta"), (200, 2))
        self.assertEqual(self.call("GET", "/k.json?ns=" + self.fb.info["namespace"]), (200, 3))
        self.assertEqual(self.call("GET", "/k.json?ns=gamma"), (200, None))
        self.assertEqual(self.dump("alpha"), {"k": 1})
        names = self.fb.ctl("GET", "namespaces")
        self.assertEqual(names["namespaces"], sorted(["alpha", "beta", self.fb.info["namespace"]]))
        self.call("DELETE", "/k.json?ns=alpha")
        self.assertEqual(self.call("GET", "/k.json?ns=beta"), (200, 2))
        self.assertIsNone(self.dump("alpha"))

    def test_concurrent_writers(self):
        import threading
        errors = []

        def writer(w):
            try:
                for i in range(20):
                    st, _ = self.call("PATCH", "/c.json?ns=conc%d" % (w % 2), {"w%d/i%d" % (w, i): i})
                    if st != 200:
                        errors.append(st)
            except Exception as e:  # reported below
                errors.append(repr(e))
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        total = sum(len(v) for ns in ("conc0", "conc1") for v in self.dump(ns)["c"].values())
        self.assertEqual(total, 120)
        self.assertEqual(len(self.fb.ctl("GET", "requests", query="?method=PATCH")), 120)

    def test_control_set_dump_reset(self):
        self.fb.ctl("PUT", "db", {"seed": {"a": [1, 2]}}, query="?ns=s1")
        self.assertEqual(self.call("GET", "/seed/a.json?ns=s1"), (200, [1, 2]))
        self.assertEqual(self.dump("s1", raw=True), {"seed": {"a": {"0": 1, "1": 2}}})
        self.fb.ctl("PUT", "db/seed/b", "x", query="?ns=s1")
        self.assertEqual(self.fb.ctl("GET", "db/seed", query="?ns=s1"), {"a": [1, 2], "b": "x"})
        st, _, body = self.fb.request("PUT", "/_fake/db", b'{"a.b": 1}')
        self.assertEqual(st, 400)
        self.fb.ctl("POST", "reset")
        self.assertIsNone(self.dump("s1"))
        self.assertEqual(self.fb.ctl("GET", "requests"), [])


class FirebaseFaults(FirebaseCase):
    def drop_expected(self, method, path, body):
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            self.fb.request(method, path, json.dumps(body), {"Authorization": "Bearer " + TOKEN})

    def test_fault_in_the_middle_of_a_patch_sequence(self):
        self.call("PUT", "/seq.json", {"k0": 0})
        self.fb.ctl("POST", "faults", [{"nth": 3, "status": 503, "prefix": "seq"}])
        results = [self.call("PATCH", "/seq.json", {"k%d" % i: i, "n%d/x" % i: i}) for i in range(1, 6)]
        self.assertEqual([r[0] for r in results], [200, 200, 503, 200, 200])
        self.assertEqual(results[2][1], {"error": "Service unavailable."})
        self.assertEqual(self.dump(), {"seq": {"k0": 0, "k1": 1, "k2": 2, "k4": 4, "k5": 5,
                                               "n1": {"x": 1}, "n2": {"x": 2}, "n4": {"x": 4}, "n5": {"x": 5}}})
        writes = self.fb.ctl("GET", "requests", query="?writes=1")
        self.assertEqual([(e["method"], e["path"], e["status"]) for e in writes],
                         [("PUT", "/seq", 200)] + [("PATCH", "/seq", s) for s in (200, 200, 503, 200, 200)])
        self.assertEqual(writes[3]["fault"], 0)
        self.assertTrue(all(e["body_bytes"] > 0 for e in writes))
        rules = self.fb.ctl("GET", "faults")
        self.assertEqual((rules["fired"], rules["rules"][0]["seen"], rules["rules"][0]["remaining"]), (1, 3, 0))

    def test_retry_after_and_reads_untouched(self):
        self.fb.ctl("POST", "faults", [{"status": 429, "retry_after": 7, "times": 2}])
        self.assertEqual(self.call("GET", "/.json"), (200, None))  # default rules match writes only
        st, hdrs, body = self.call("PUT", "/r.json", 1, raw=True)
        self.assertEqual((st, hdrs.get("retry-after"), json.loads(body)), (429, "7", {"error": "Too many requests."}))
        self.assertEqual(self.call("DELETE", "/r.json")[0], 429)
        self.assertEqual(self.call("PUT", "/r.json", 1), (200, 1))
        self.fb.ctl("POST", "faults", [{"method": "GET", "status": 500, "message": "boom"}])
        self.assertError(self.call("GET", "/r.json"), 500, "boom")
        self.assertEqual(self.call("GET", "/r.json"), (200, 1))

    def test_drop_before_and_after(self):
        self.fb.ctl("POST", "faults", [{"drop": "before"}])
        self.drop_expected("PUT", "/d1.json", {"a": 1})
        self.assertIsNone(self.dump())
        self.fb.ctl("POST", "faults", [{"drop": "after", "method": "PATCH"}])
        self.drop_expected("PATCH", "/d2.json", {"a": 1})
        self.assertEqual(self.dump(), {"d2": {"a": 1}})  # the work was done, the answer lost
        statuses = [e["status"] for e in self.fb.ctl("GET", "requests")]
        self.assertEqual(statuses, ["dropped", "dropped"])

    def test_delay(self):
        self.fb.ctl("POST", "faults", [{"delay": 0.6, "match": "any", "times": 1}])
        t0 = time.time()
        self.assertEqual(self.call("GET", "/.json"), (200, None))
        self.assertGreaterEqual(time.time() - t0, 0.55)
        t0 = time.time()
        self.call("GET", "/.json")
        self.assertLess(time.time() - t0, 0.5)

    def test_prefix_and_namespace_matching(self):
        self.fb.ctl("POST", "faults", [{"prefix": "/users/a", "status": 500, "times": -1}])
        self.assertEqual(self.call("PUT", "/users/ab.json", 1)[0], 200)  # segment-wise prefix
        self.assertEqual(self.call("PUT", "/users/a/x.json", 1)[0], 500)
        self.assertEqual(self.call("PATCH", "/.json", {"users/a/y": 1})[0], 500)  # a PATCH key under the prefix
        self.assertEqual(self.call("PATCH", "/.json", {"users/b": 1})[0], 200)
        self.fb.ctl("POST", "faults", {"rules": [{"ns": "other", "status": 503}]})
        self.assertEqual(self.call("PUT", "/z.json", 1)[0], 200)
        self.assertEqual(self.call("PUT", "/z.json?ns=other", 1)[0], 503)
        self.fb.ctl("DELETE", "faults")
        self.assertEqual(self.call("PUT", "/z.json?ns=other", 1)[0], 200)

    def test_bad_rules_refused(self):
        for rule in ({"status": 500, "bogus": 1}, {"nth": 0, "status": 500}, {"prefix": "a"}, {"drop": "sideways"},
                     {"status": 500, "drop": "before"}):
            st, _, _ = self.fb.request("POST", "/_fake/faults", json.dumps([rule]).encode())
            self.assertEqual(st, 400, rule)


# ========================================================================================================= Slack

HOOK = "/services/T000/B000/XXXX"


class SlackCase(unittest.TestCase):
    sl = None
    args = ()

    @classmethod
    def setUpClass(cls):
        cls.sl = Proc("slack_fake", cls.args)

    @classmethod
    def tearDownClass(cls):
        cls.sl.stop()

    def setUp(self):
        self.sl.ctl("POST", "reset")

    def post(self, body, path=HOOK, content_type="application/json", headers=None):
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        hdrs = dict(headers or {})
        if content_type:
            hdrs["Content-Type"] = content_type
        st, rh, payload = self.sl.request("POST", path, body, hdrs)
        return st, payload.decode()


class SlackRecorder(SlackCase):
    def test_ready_line_and_ok(self):
        info = self.sl.info
        self.assertEqual(info["base_url"], "http://127.0.0.1:%d" % info["port"])
        self.assertTrue(info["webhook_url"].startswith(info["base_url"] + "/services/"))
        self.assertEqual(info["env"]["SLACK_WEBHOOK_URL"], info["webhook_url"])
        st, hdrs, body = self.sl.request("POST", HOOK, json.dumps({"text": "hello", "username": "bot",
                                                                    "icon_emoji": ":ghost:", "channel": "#c"}),
                                         {"Content-Type": "application/json"})
        self.assertEqual((st, body), (200, b"ok"))
        self.assertTrue(hdrs["content-type"].startswith("text/html"))
        msgs = self.sl.ctl("GET", "messages")
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual((m["path"], m["text"], m["username"], m["icon_emoji"], m["channel"]),
                         (HOOK, "hello", "bot", ":ghost:", "#c"))
        self.assertEqual(m["payload"]["text"], "hello")
        self.assertLessEqual(abs(m["time"] - time.time()), 30)

    def test_form_payload(self):
        form = urllib.parse.urlencode({"payload": json.dumps({"text": "via form"})})
        self.assertEqual(self.post(form, content_type="application/x-www-form-urlencoded"), (200, "ok"))
        # a form without payload=: the raw body is read as JSON; without usable text Slack says no_text
        self.assertEqual(self.post('{"text": "raw"}', content_type="application/x-www-form-urlencoded"), (200, "ok"))
        self.assertEqual(self.post('{"Name": "x"}', content_type="application/x-www-form-urlencoded"),
                         (400, "no_text"))
        form = urllib.parse.urlencode({"payload": json.dumps({"url": "x"})})
        self.assertEqual(self.post(form, content_type="application/x-www-form-urlencoded"),
                         (400, "missing_text_or_fallback_or_attachments"))
        self.assertEqual(self.post(urllib.parse.urlencode({"payload": "{nope"}),
                                   content_type="application/x-www-form-urlencoded"), (400, "invalid_payload"))
        self.assertEqual([m["text"] for m in self.sl.ctl("GET", "messages")], ["via form", "raw"])

    def test_invalid_payloads(self):
        for body in ("{bad", "[1]", '"text"', "", b"\xff", '{"text": NaN}'):
            self.assertEqual(self.post(body), (400, "invalid_payload"), body)
        self.assertEqual(self.post({"text": 5}), (400, "invalid_payload"))
        self.assertEqual(self.post({}), (400, "missing_text_or_fallback_or_attachments"))
        self.assertEqual(self.post({"username": "x"}), (400, "missing_text_or_fallback_or_attachments"))
        self.assertEqual(self.post({"text": ""}), (400, "no_text"))
        self.assertEqual(self.post({"text": "  \n"}), (400, "no_text"))
        self.assertEqual(self.sl.ctl("GET", "messages"), [])
        reqs = self.sl.ctl("GET", "requests")
        self.assertEqual(len(reqs), 11)
        self.assertEqual(reqs[0]["error"], "invalid_payload")

    def test_blocks(self):
        section = {"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}
        self.assertEqual(self.post({"blocks": [section, {"type": "divider"}]}), (200, "ok"))  # text optional
        self.assertEqual(self.post({"text": "t", "blocks": json.dumps([section])}), (200, "ok"))
        self.assertEqual(self.post({"blocks": {"type": "divider"}}), (400, "invalid_blocks_format"))
        self.assertEqual(self.post({"blocks": "[nope"}), (400, "invalid_blocks_format"))
        for bad in ([{"text": "no type"}], [{"type": 1}], ["divider"], [{"type": "no_such_block"}],
                    [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}],
                    [{"type": "section"}],
                    [{"type": "section", "fields": [{"type": "mrkdwn", "text": ""}]}],
                    [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}],
                    [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
                    [{"type": "divider"}] * 51):
            self.assertEqual(self.post({"text": "t", "blocks": bad}), (400, "invalid_blocks"), bad)
        self.assertEqual(self.post({"text": "t", "blocks": []}), (200, "ok"))
        self.assertEqual(self.post({"blocks": []}), (400, "missing_text_or_fallback_or_attachments"))
        self.assertEqual(len(self.sl.ctl("GET", "messages")), 3)

    def test_attachments(self):
        self.assertEqual(self.post({"attachments": [{"fallback": "f", "text": "t", "color": "#36a64f"}]}), (200, "ok"))
        self.assertEqual(self.post({"text": "t", "attachments": [{"text": "x"}] * 101}), (400, "too_many_attachments"))
        self.assertEqual(self.post({"text": "t", "attachments": "nope"}), (400, "invalid_attachments"))

    def test_paths_methods_and_size(self):
        self.assertEqual(self.post({"text": "x"}, path="/services/T1/B1/other"), (200, "ok"))  # any path is known
        self.assertEqual(self.post({"text": "x"}, path="/services/T1/B1"), (404, "no_service"))
        self.assertEqual(self.post({"text": "x"}, path="/elsewhere"), (404, "not_found"))
        st, _, body = self.sl.request("GET", HOOK)
        self.assertEqual((st, body), (405, b"method_not_allowed"))
        self.sl.ctl("POST", "config", {"max_body_bytes": 50})
        body = json.dumps({"text": "x" * 38})
        self.assertEqual(len(body), 50)
        self.assertEqual(self.post(body), (200, "ok"))
        self.assertEqual(self.post({"text": "x" * 39}), (413, "request_too_large"))

    def test_faults(self):
        self.sl.ctl("POST", "faults", [{"status": 500, "nth": 2}])
        self.assertEqual(self.post({"text": "1"}), (200, "ok"))
        self.assertEqual(self.post({"text": "2"}), (500, "rollup_error"))
        self.assertEqual(self.post({"text": "3"}), (200, "ok"))
        self.sl.ctl("POST", "faults", [{"status": 429, "retry_after": 30}])
        st, hdrs, body = self.sl.request("POST", HOOK, b'{"text": "4"}', {"Content-Type": "application/json"})
        self.assertEqual((st, hdrs.get("retry-after"), body), (429, "30", b"rate_limited"))
        self.sl.ctl("POST", "faults", [{"status": 410, "body": "channel_is_archived", "times": -1, "path": "T9"}])
        self.assertEqual(self.post({"text": "5"}, path="/services/T9/B9/x"), (410, "channel_is_archived"))
        self.assertEqual(self.post({"text": "6"}, path="/services/T9/B9/x"), (410, "channel_is_archived"))
        self.sl.ctl("POST", "faults", [{"drop": "before"}])
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            self.sl.request("POST", HOOK, b'{"text": "7"}', {"Content-Type": "application/json"})
        self.sl.ctl("POST", "faults", [{"drop": "after"}])
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            self.sl.request("POST", HOOK, b'{"text": "8"}', {"Content-Type": "application/json"})
        self.sl.ctl("POST", "faults", [{"delay": 0.5}])
        t0 = time.time()
        self.assertEqual(self.post({"text": "9"}), (200, "ok"))
        self.assertGreaterEqual(time.time() - t0, 0.45)
        # recorded: the accepted ones, including the one whose answer was dropped after the work
        self.assertEqual([m["text"] for m in self.sl.ctl("GET", "messages")], ["1", "3", "8", "9"])
        statuses = [r["status"] for r in self.sl.ctl("GET", "requests")]
        self.assertEqual(statuses, [200, 500, 200, 429, 410, 410, "dropped", 200, 200])

    def test_wait_for_messages(self):
        since = 0
        self.assertEqual(self.sl.ctl("GET", "messages", query="?count=1&timeout=0.3"), [])
        self.post({"text": "a"}, path="/services/T1/B1/one")
        self.post({"text": "b"}, path="/services/T2/B2/two")
        msgs = self.sl.ctl("GET", "messages", query="?count=2&timeout=5&since=%d" % since)
        self.assertEqual([m["text"] for m in msgs], ["a", "b"])
        only = self.sl.ctl("GET", "messages", query="?path=/services/T2/B2/two")
        self.assertEqual([m["text"] for m in only], ["b"])
        later = self.sl.ctl("GET", "messages", query="?since=%d" % msgs[0]["seq"])
        self.assertEqual([m["text"] for m in later], ["b"])
        self.sl.ctl("DELETE", "messages")
        self.assertEqual(self.sl.ctl("GET", "messages"), [])


class SlackKnownWebhooks(SlackCase):
    args = ("--webhook", HOOK, "--webhook", "/services/T000/B111/YYYY")

    def test_known_webhooks(self):
        self.assertEqual(self.sl.info["webhook_url"], self.sl.info["base_url"] + HOOK)
        self.assertEqual(len(self.sl.info["webhooks"]), 2)
        self.assertEqual(self.post({"text": "x"}), (200, "ok"))
        self.assertEqual(self.post({"text": "x"}, path="/services/T000/B111/YYYY"), (200, "ok"))
        self.assertEqual(self.post({"text": "x"}, path="/services/T000/B000/WRONG"), (403, "invalid_token"))
        self.assertEqual(self.post({"text": "x"}, path="/services/T000/B222/XXXX"), (404, "no_service"))
        self.assertEqual(self.post({"text": "x"}, path="/services/T999/B999/ZZZZ"), (404, "no_service"))
        # the webhook check comes before the payload check
        self.assertEqual(self.post("{bad", path="/services/T999/B999/ZZZZ"), (404, "no_service"))
        self.sl.ctl("POST", "webhooks", {"path": "/services/T999/B999/ZZZZ"})
        self.assertEqual(self.post({"text": "x"}, path="/services/T999/B999/ZZZZ"), (200, "ok"))
        self.sl.ctl("POST", "reset", {"webhooks": True})
        self.assertEqual(self.post({"text": "x"}, path="/services/T999/B999/ZZZZ"), (404, "no_service"))
        self.assertEqual(len(self.sl.ctl("GET", "messages")), 0)


class Lifecycle(unittest.TestCase):
    def test_sigterm_stops_both_quickly(self):
        for module in ("firebase_fake", "slack_fake"):
            p = Proc(module)
            t0 = time.time()
            p.proc.terminate()
            p.proc.wait(10)
            self.assertLess(time.time() - t0, 5)
            self.assertEqual(p.proc.returncode, 0)
            p.stop()

    def test_in_process_for_a_combined_launcher(self):
        """create_server() binds without serving, as a launcher running several stand-ins in one process needs."""
        import threading
        sys.path.insert(0, HERE)
        try:
            import firebase_fake.server
            import slack_fake.server
            self.assertTrue(callable(firebase_fake.server.main) and callable(slack_fake.server.main))
            fb, fb_info = firebase_fake.server.create_server(["--port", "0", "--open", "--ns", "inproc"])
            sl, sl_info = slack_fake.server.create_server(["--port", "0"])
        finally:
            sys.path.remove(HERE)
        threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
                   for s in (fb, sl)]
        for t in threads:
            t.start()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", fb_info["port"], timeout=HTTP_TIMEOUT)
            conn.request("PUT", "/a.json", b"1")
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"1"))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", sl_info["port"], timeout=HTTP_TIMEOUT)
            conn.request("POST", urllib.parse.urlparse(sl_info["webhook_url"]).path, b'{"text":"x"}',
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"ok"))
            conn.close()
        finally:
            for s in (fb, sl):
                s.shutdown()
                s.server_close()
            for t in threads:
                t.join(10)
        self.assertFalse(any(t.is_alive() for t in threads))


if __name__ == "__main__":
    unittest.main()
