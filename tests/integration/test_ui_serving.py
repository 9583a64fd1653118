#!/usr/bin/env python3
"""The web UI's files as the real daemon serves them over HTTP: / and /ui/ without sign-in, each file
with its content type, byte for byte the file in web/ui/ (js/app.js: the bundle of all the modules
the build made, and no module served on its own); ETag and If-None-Match (a 304 without a body, on a
connection that goes on); Cache-Control and the CSP; 404 problems for unknown files and paths that
try to leave the folder; and a page script's 401 without a Basic challenge."""

import http.client
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon import MAYAFLOW, REPO, Daemon  # noqa: E402

UI = os.path.join(REPO, "web", "ui")


def source(relative):
    with open(os.path.join(UI, relative), "rb") as f:
        return f.read()


def bundle():
    """js/app.js as the build bundled it (cmake/EmbedUi.cmake), beside the binary under test."""
    with open(os.path.join(os.path.dirname(os.path.abspath(MAYAFLOW)), "generated", "ui", "js", "app.js"), "rb") as f:
        return f.read()


class UiServing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(copy_examples=False).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.daemon.port, timeout=10)

    def get(self, path, headers=None, method="GET", connection=None):
        c = connection or self.connection()
        try:
            c.request(method, path, headers=headers or {})
            response = c.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            if connection is None:
                c.close()

    def test_pages_and_files_need_no_sign_in_and_are_the_sources(self):
        for path in ("/", "/home"):
            status, headers, body = self.get(path)
            self.assertEqual(status, 200, path)
            self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
            self.assertEqual(body, source("index.html"))
            self.assertIn("default-src 'self'", headers["content-security-policy"])
            self.assertEqual(headers["cache-control"], "no-cache")
        for relative, content_type in (("css/app.css", "text/css; charset=utf-8"),
                                       ("favicon.svg", "image/svg+xml")):
            status, headers, body = self.get("/ui/" + relative)
            self.assertEqual(status, 200, relative)
            self.assertEqual(headers["content-type"], content_type, relative)
            self.assertEqual(body, source(relative), "%s differs from web/ui/%s: rebuild" % (relative, relative))
            self.assertEqual(headers["x-content-type-options"], "nosniff")
        status, headers, body = self.get("/ui/js/app.js")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/javascript; charset=utf-8")
        self.assertEqual(body, bundle())
        self.assertNotIn(b"import(", body)  # every page is in it
        # The modules are in the bundle; none is served on its own.
        for relative in ("js/api.js", "js/pages/dag/grid.js"):
            status, _, _ = self.get("/ui/" + relative)
            self.assertEqual(status, 404, relative)

    def test_etag_revalidation_is_a_304_without_a_body(self):
        c = self.connection()
        status, headers, body = self.get("/ui/js/app.js", connection=c)
        self.assertEqual(status, 200)
        etag = headers["etag"]
        self.assertTrue(etag.startswith('"') and etag.endswith('"'), etag)
        status, headers, body = self.get("/ui/js/app.js", {"If-None-Match": etag}, connection=c)
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")
        self.assertEqual(headers["etag"], etag)
        # The connection goes on after the 304: nothing of a body was sent.
        status, _, body = self.get("/ui/css/app.css", connection=c)
        self.assertEqual(status, 200)
        self.assertEqual(body, source("css/app.css"))
        status, _, _ = self.get("/ui/js/app.js", {"If-None-Match": '"not-it"'}, connection=c)
        self.assertEqual(status, 200)
        status, headers, body = self.get("/ui/js/app.js", method="HEAD", connection=c)
        self.assertEqual((status, body, int(headers["content-length"])), (200, b"", len(bundle())))
        c.close()

    def test_unknown_files_and_escapes_are_404_problems(self):
        for path in ("/ui/js/nothing.js", "/ui/../CMakeLists.txt", "/ui/%2e%2e/%2e%2e/CMakeLists.txt",
                     "/ui/js/..%2f..%2f..%2fCMakeLists.txt", "/ui/..%5c..%5cCMakeLists.txt", "/ui/.hidden",
                     "/ui/%2fetc%2fpasswd", "/ui/a/b/c/d/e"):
            status, headers, body = self.get(path)
            self.assertEqual(status, 404, path)
            self.assertEqual(headers["content-type"], "application/problem+json", path)
            self.assertIn("detail", json.loads(body), path)

    def test_a_page_script_gets_no_basic_challenge(self):
        status, headers, _ = self.get("/api/v1/dags", {"X-Requested-With": "mayaflow-ui"})
        self.assertEqual(status, 401)
        self.assertNotIn("www-authenticate", headers)
        status, headers, _ = self.get("/api/v1/dags", {"Sec-Fetch-Mode": "cors"})
        self.assertEqual(status, 401)
        self.assertNotIn("www-authenticate", headers)
        status, headers, _ = self.get("/api/v1/dags")
        self.assertEqual(status, 401)
        self.assertTrue(headers["www-authenticate"].startswith("Basic"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
