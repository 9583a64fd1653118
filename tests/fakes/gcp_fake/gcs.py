"""Cloud Storage JSON API (read side): objects.list, objects.get, media download.

A bucket named B is the folder DATA/B; object names are '/'-joined relative paths of the files in it.
"""
import base64
import hashlib
import mimetypes
import os
import re
import threading
import urllib.parse

from .util import GoogleError, Response, json_response, rfc3339

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


class Storage:
    def __init__(self, data_dir, base_url_fn):
        self.data_dir = os.path.abspath(data_dir)
        self.base_url = base_url_fn
        self.lock = threading.Lock()
        self.hash_cache = {}  # path -> (mtime_ns, size, md5, crc)

    # -- filesystem model ------------------------------------------------
    def bucket_dir(self, bucket):
        if not _BUCKET_RE.match(bucket or "") or ".." in bucket:
            return None
        path = os.path.join(self.data_dir, bucket)
        return path if os.path.isdir(path) else None

    def list_names(self, bucket):
        root = self.bucket_dir(bucket)
        if root is None:
            return None
        names = []
        for dirpath, dirnames, filenames in os.walk(root):
            for f in filenames:
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                names.append(rel.replace(os.sep, "/"))
        names.sort(key=lambda s: s.encode("utf-8"))
        return names

    def object_path(self, bucket, name):
        root = self.bucket_dir(bucket)
        if root is None:
            return None, None
        if not name or name.startswith("/") or any(p in ("..", ".") for p in name.split("/")):
            return root, None
        p = os.path.join(root, *name.split("/"))
        return root, (p if os.path.isfile(p) else None)

    def hashes(self, path):
        st = os.stat(path)
        with self.lock:
            c = self.hash_cache.get(path)
            if c and c[0] == st.st_mtime_ns and c[1] == st.st_size:
                return c[2], c[3]
        data = open(path, "rb").read()
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        crc = base64.b64encode(crc32c(data).to_bytes(4, "big")).decode()
        with self.lock:
            self.hash_cache[path] = (st.st_mtime_ns, st.st_size, md5, crc)
        return md5, crc

    def metadata(self, bucket, name, path):
        st = os.stat(path)
        gen = str(st.st_mtime_ns // 1000)
        md5, crc = self.hashes(path)
        enc = urllib.parse.quote(name, safe="")
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".ndjson"):
            ctype = "application/x-ndjson"
        base = self.base_url()
        return {
            "kind": "storage#object",
            "id": "%s/%s/%s" % (bucket, name, gen),
            "selfLink": "%s/storage/v1/b/%s/o/%s" % (base, bucket, enc),
            "mediaLink": "%s/download/storage/v1/b/%s/o/%s?generation=%s&alt=media" % (base, bucket, enc, gen),
            "name": name,
            "bucket": bucket,
            "generation": gen,
            "metageneration": "1",
            "contentType": ctype,
            "storageClass": "STANDARD",
            "size": str(st.st_size),
            "md5Hash": md5,
            "crc32c": crc,
            "etag": base64.b64encode(("%s%s" % (gen, md5)).encode()).decode()[:16],
            "timeCreated": rfc3339(st.st_mtime),
            "updated": rfc3339(st.st_mtime),
            "timeStorageClassUpdated": rfc3339(st.st_mtime),
        }

    # -- API ---------------------------------------------------------------
    def handle(self, method, path, query, headers):
        """path starts with /storage/v1/ or /download/storage/v1/ (raw, still percent-encoded)."""
        download = path.startswith("/download/")
        rest = path[len("/download/storage/v1/"):] if download else path[len("/storage/v1/"):]
        segs = rest.split("/")
        if method not in ("GET", "HEAD"):
            raise GoogleError(405, "Method not allowed by the local GCS stand-in (read-only).", "methodNotAllowed",
                              status=False)
        if len(segs) >= 2 and segs[0] == "b" and len(segs) == 2:
            bucket = urllib.parse.unquote(segs[1])
            if self.bucket_dir(bucket) is None:
                raise _no_bucket()
            return json_response({"kind": "storage#bucket", "id": bucket, "name": bucket,
                                  "location": "US", "storageClass": "STANDARD", "metageneration": "1"})
        if len(segs) == 3 and segs[0] == "b" and segs[2] == "o" and not download:
            return self.list(urllib.parse.unquote(segs[1]), query)
        if len(segs) == 4 and segs[0] == "b" and segs[2] == "o":
            return self.get(urllib.parse.unquote(segs[1]), urllib.parse.unquote(segs[3]), query, headers, download)
        if len(segs) > 4 and segs[0] == "b" and segs[2] == "o":
            # An unencoded '/' in the object name: GCS would treat it as a different (unknown) path.
            raise GoogleError(404, "Not Found", "notFound", status=False)
        raise GoogleError(404, "Not Found", "notFound", status=False)

    def list(self, bucket, query):
        names = self.list_names(bucket)
        if names is None:
            raise _no_bucket()
        q = {k: v[0] for k, v in query.items()}
        prefix = q.get("prefix", "")
        delim = q.get("delimiter", "")
        start, end = q.get("startOffset"), q.get("endOffset")
        glob = q.get("matchGlob")
        try:
            max_results = int(q.get("maxResults", "1000"))
            if max_results < 0:
                raise ValueError
        except ValueError:
            raise GoogleError(400, "Invalid argument.", "invalid", status=False)
        max_results = min(max_results or 1000, 1000)
        rx = None
        if glob is not None:
            try:
                rx = re.compile(glob_to_regex(glob))
            except re.error:
                raise GoogleError(400, "The provided glob pattern is invalid.", "invalid", status=False)
        entries = []  # (sort key, kind, value)
        seen_prefixes = set()
        for n in names:
            if not n.startswith(prefix):
                continue
            if start is not None and n < start:
                continue
            if end is not None and n >= end:
                continue
            if rx is not None and not rx.fullmatch(n):
                continue
            if delim:
                i = n.find(delim, len(prefix))
                if i >= 0:
                    p = n[:i + len(delim)]
                    if p not in seen_prefixes:
                        seen_prefixes.add(p)
                        entries.append((p, "prefix"))
                    continue
            entries.append((n, "item"))
        entries.sort(key=lambda e: e[0].encode("utf-8"))
        token = q.get("pageToken")
        if token:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except Exception:
                raise GoogleError(400, "Invalid page token.", "invalid", status=False)
            entries = [e for e in entries if e[0].encode() > after.encode()]
        page, more = entries[:max_results], len(entries) > max_results
        out = {"kind": "storage#objects"}
        root = self.bucket_dir(bucket)
        prefixes = [e[0] for e in page if e[1] == "prefix"]
        items = [self.metadata(bucket, e[0], os.path.join(root, *e[0].split("/"))) for e in page if e[1] == "item"]
        if more:
            out["nextPageToken"] = base64.urlsafe_b64encode(page[-1][0].encode()).decode()
        if prefixes:
            out["prefixes"] = prefixes
        if items:
            out["items"] = items
        return json_response(out)

    def get(self, bucket, name, query, headers, download):
        root, path = self.object_path(bucket, name)
        if root is None:
            raise _no_bucket()
        if path is None:
            raise GoogleError(404, "No such object: %s/%s" % (bucket, name), "notFound", status=False)
        meta = self.metadata(bucket, name, path)
        gen = query.get("generation", [None])[0]
        if gen is not None and gen != meta["generation"]:
            raise GoogleError(404, "No such object: %s/%s" % (bucket, name), "notFound", status=False)
        alt = query.get("alt", ["json"])[0]
        if download and alt != "media":
            raise GoogleError(400, "Download requests must specify alt=media.", "invalid", status=False)
        if alt != "media":
            return json_response(meta)
        data = open(path, "rb").read()
        hdrs = {"x-goog-generation": meta["generation"], "x-goog-metageneration": "1",
                "x-goog-hash": "crc32c=%s,md5=%s" % (meta["crc32c"], meta["md5Hash"]),
                "x-goog-stored-content-length": meta["size"], "x-goog-storage-class": "STANDARD",
                "ETag": '"%s"' % meta["etag"], "Accept-Ranges": "bytes"}
        rng = headers.get("Range")
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip()) if rng else None
        if m and (m.group(1) or m.group(2)):
            size = len(data)
            if m.group(1):
                a = int(m.group(1))
                b = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                a, b = max(size - int(m.group(2)), 0), size - 1
            if a >= size or a > b:
                hdrs["Content-Range"] = "bytes */%d" % size
                return Response(416, "Request range not satisfiable", hdrs, "text/plain")
            hdrs["Content-Range"] = "bytes %d-%d/%d" % (a, b, size)
            return Response(206, data[a:b + 1], hdrs, meta["contentType"])
        return Response(200, data, hdrs, meta["contentType"])


def _no_bucket():
    return GoogleError(404, "The specified bucket does not exist.", "notFound", status=False)


def glob_to_regex(glob):
    """GCS matchGlob: '*' (not '/'), '**' (anything), '?' (one non-'/'), [set], {a,b}."""
    out, i, n = [], 0, len(glob)
    depth = 0
    while i < n:
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                # '**/' also matches zero directories
                if glob.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = glob.find("]", i + 1)
            if j < 0:
                raise re.error("unclosed [")
            body = glob[i + 1:j]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j + 1
            continue
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(glob[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        raise re.error("unclosed {")
    return "".join(out)
