"""One database's JSON tree and Firebase's rules for it.

* validation of keys, paths, depth and values, with the error texts the stand-in answers;
* normalisation as Firebase stores data: arrays become objects keyed "0", "1", ...; null children are dropped;
  an object left empty vanishes (and so does a parent left empty); server values are resolved;
* rendering as Firebase returns data: an object whose keys are all array indices, more than half of them
  present, comes back as an array with nulls in the gaps.
"""
import base64
import hashlib
import json
import math
import re

MAX_DEPTH = 32
MAX_KEY_BYTES = 768
DEFAULT_MAX_STRING_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_WRITE_BYTES = 256 * 1024 * 1024
FORBIDDEN = frozenset(".$#[]/")
SPECIAL_KEYS = (".sv", ".value", ".priority")
INT32_MAX = 2 ** 31 - 1

# Firebase's own wording (seen in real answers quoted in public issues; see FIREBASE-SLACK.md):
MSG_JSON = "Invalid data; couldn't parse JSON object, array, or value."
MSG_KEY = "Invalid data; couldn't parse key beginning at %d:%d. Key value can't be empty or contain $ # [ ] / or ."
MSG_PATH = "Invalid path: Invalid token in path"
MSG_TOO_BIG = "Data to write exceeds the maximum size that can be modified with a single request."
MSG_PERMISSION = "Permission denied"
MSG_AUTH_TOKEN = "Could not parse auth token."
MSG_NO_JSON_SUFFIX = "append .json to your request URI to use the REST API."
MSG_ORDER_BY = "orderBy must be defined when other query parameters are defined"
# The stand-in's own wording where no real answer was found (marked as approximations in FIREBASE-SLACK.md):
MSG_KEY_LONG = "Invalid data; couldn't parse key beginning at %d:%d. Key value can't be longer than 768 bytes."
MSG_DEPTH = "Invalid data; path specified exceeds the maximum depth that can be written (32)."
MSG_STRING = "Invalid data; a string value exceeds the maximum size of %d bytes."
MSG_PATCH_OBJECT = "Invalid data; couldn't parse JSON object. Are you sending a JSON object with valid key names?"
MSG_OVERLAP = "Invalid data; the update contains a path %s that is an ancestor of another path %s."


class FirebaseError(Exception):
    """Answered as {"error" : message} with the given status."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def key_problem(key):
    """None for a valid key, else "invalid" (empty, forbidden or control character) or "long" (> 768 bytes)."""
    if key == "":
        return "invalid"
    for ch in key:
        o = ord(ch)
        if o < 32 or o == 127 or ch in FORBIDDEN:
            return "invalid"
    if len(key) * 4 > MAX_KEY_BYTES and len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return "long"
    return None


def split_path(text):
    """Path segments of a decoded path: empty segments are dropped, as Firebase does ("a//b/" is "a/b")."""
    return [s for s in text.split("/") if s]


def parse_url_path(raw):
    """Segments of a URL path (already stripped of ".json"), percent-decoded as UTF-8. Raises FirebaseError."""
    from urllib.parse import unquote
    try:
        text = unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise FirebaseError(400, MSG_PATH)
    segs = split_path(text)
    for s in segs:
        if key_problem(s):
            raise FirebaseError(400, MSG_PATH)
    if len(segs) > MAX_DEPTH:
        raise FirebaseError(400, MSG_DEPTH)
    return segs


def path_text(segs):
    return "/" + "/".join(segs)


def _reject_constant(name):
    raise ValueError("NaN and Infinity are not JSON")


def parse_json(body):
    """(text, value) of a request body. Raises FirebaseError for anything that is not strict JSON."""
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise FirebaseError(400, MSG_DEPTH)
    except (UnicodeDecodeError, ValueError):
        raise FirebaseError(400, MSG_JSON)
    return text, value


# ---------------------------------------------------------------------------------------------- validation

def _string_too_long(s, max_bytes):
    if len(s) > max_bytes:
        return True
    if len(s) * 4 <= max_bytes:
        return False
    return len(s.encode("utf-8", "surrogatepass")) > max_bytes


def _valid_server_value(spec):
    if spec == "timestamp":
        return True
    if isinstance(spec, dict) and list(spec) == ["increment"]:
        n = spec["increment"]
        return isinstance(n, (int, float)) and not isinstance(n, bool)
    return False


def validate_value(value, depth, max_string):
    """Walk `value` (parsed JSON) in document order. `depth` is the number of keys above it, counted from the
    database root. Returns None, or the first problem: ("key", key, "invalid"|"long"), ("depth",), ("string",),
    ("json",) (a number outside double range or a malformed server value)."""
    if value is None or isinstance(value, bool) or isinstance(value, str) and not _string_too_long(value, max_string):
        return None
    if isinstance(value, str):
        return ("string",)
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return ("json",)
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else ("json",)
    if isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        if ".sv" in value:
            if len(value) != 1 and set(value) != {".sv", ".priority"} or not _valid_server_value(value[".sv"]):
                return ("json",)
            return None if depth <= MAX_DEPTH else ("depth",)
        if ".value" in value:
            if not set(value) <= {".value", ".priority"}:
                return ("json",)
            return validate_value(value[".value"], depth, max_string)
        items = value.items()
    for k, v in items:
        if k == ".priority":
            continue
        prob = key_problem(k)
        if prob:
            return ("key", k, prob)
        if depth + 1 > MAX_DEPTH:
            return ("depth",)
        r = validate_value(v, depth + 1, max_string)
        if r:
            return r
    return None


_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _line_col(text, pos):
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def find_bad_key(text, patch=False):
    """Line and column (1-based, in characters) where the first invalid object key begins in the JSON text,
    with its problem; top-level keys of a PATCH are slash-separated paths. None if there is none."""
    depth = 0
    n = len(text)
    for m in _TOKEN.finditer(text):
        tok = m.group()
        c = tok[0]
        if c in "[{":
            depth += 1
            continue
        if c in "]}":
            depth -= 1
            continue
        j = m.end()
        while j < n and text[j] in " \t\r\n":
            j += 1
        if j >= n or text[j] != ":":
            continue
        try:
            key = json.loads(tok)
        except ValueError:
            continue
        if key in SPECIAL_KEYS:
            continue
        if patch and depth == 1:
            prob = next((p for p in (key_problem(s) for s in split_path(key)) if p), None)
        else:
            prob = key_problem(key)
        if prob:
            return _line_col(text, m.start()), prob
    return None


def raise_problem(problem, text, patch, max_string):
    kind = problem[0]
    if kind == "key":
        found = find_bad_key(text, patch)
        (line, col), prob = found if found else ((1, 1), problem[2])
        raise FirebaseError(400, (MSG_KEY_LONG if prob == "long" else MSG_KEY) % (line, col))
    if kind == "depth":
        raise FirebaseError(400, MSG_DEPTH)
    if kind == "string":
        raise FirebaseError(400, MSG_STRING % max_string)
    raise FirebaseError(400, MSG_JSON)


def parse_patch_keys(text, body, base_segs, max_string):
    """[(segments, value)] of a PATCH body, validated. Raises FirebaseError."""
    if not isinstance(body, dict):
        raise FirebaseError(400, MSG_PATCH_OBJECT)
    out = []
    for k, v in body.items():
        segs = split_path(k)
        for s in segs:
            prob = key_problem(s)
            if prob:
                raise_problem(("key", s, prob), text, True, max_string)
        full = base_segs + segs
        if len(full) > MAX_DEPTH:
            raise FirebaseError(400, MSG_DEPTH)
        problem = validate_value(v, len(full), max_string)
        if problem:
            raise_problem(problem, text, True, max_string)
        out.append((segs, v))
    ordered = sorted(out, key=lambda e: e[0])
    for a, b in zip(ordered, ordered[1:]):
        if b[0][:len(a[0])] == a[0]:
            raise FirebaseError(400, MSG_OVERLAP % (path_text(a[0]), path_text(b[0])))
    return out


# ------------------------------------------------------------------------------------------- normalisation

def normalize_number(x):
    """Firebase keeps numbers as doubles: 1.0 is 1, and integers beyond 2^53 lose precision."""
    if isinstance(x, int) and -2 ** 53 <= x <= 2 ** 53:
        return x
    f = float(x)
    if f.is_integer() and abs(f) < 1e21:
        return int(f)
    return f


def normalize(value, existing, now_ms):
    """The stored form of a validated value: None when nothing is stored."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return normalize_number(value)
    if isinstance(value, list):
        value = {str(i): v for i, v in enumerate(value)}
    if ".sv" in value:
        spec = value[".sv"]
        if spec == "timestamp":
            return now_ms
        inc = spec["increment"]
        if isinstance(existing, (int, float)) and not isinstance(existing, bool):
            return normalize_number(existing + inc)
        return normalize_number(inc)
    if ".value" in value:
        return normalize(value[".value"], existing, now_ms)
    out = {}
    for k, v in value.items():
        if k == ".priority":
            continue
        child = normalize(v, existing.get(k) if isinstance(existing, dict) else None, now_ms)
        if child is not None:
            out[k] = child
    return out or None


class Database:
    """One namespace. Not thread-safe by itself: the server holds its lock around every call."""

    def __init__(self):
        self.root = None

    def get(self, segs):
        node = self.root
        for s in segs:
            if not isinstance(node, dict):
                return None
            node = node.get(s)
            if node is None:
                return None
        return node

    def set(self, segs, value):
        """Replace the node at segs with a normalised value (None deletes; empty parents vanish)."""
        if not segs:
            self.root = value
            return
        if value is None:
            chain = []
            node = self.root
            for s in segs[:-1]:
                if not isinstance(node, dict) or s not in node:
                    return
                chain.append((node, s))
                node = node[s]
            if not isinstance(node, dict) or segs[-1] not in node:
                return
            del node[segs[-1]]
            while chain and not node:
                parent, s = chain.pop()
                del parent[s]
                node = parent
            if isinstance(self.root, dict) and not self.root:
                self.root = None
            return
        if not isinstance(self.root, dict):
            self.root = {}
        node = self.root
        for s in segs[:-1]:
            child = node.get(s)
            if not isinstance(child, dict):
                child = node[s] = {}
            node = child
        node[segs[-1]] = value


# ---------------------------------------------------------------------------------------------- rendering

_INT_KEY = re.compile(r"-?[0-9]{1,10}\Z")


def _int_key(k):
    if _INT_KEY.match(k):
        i = int(k)
        if -2 ** 31 <= i <= INT32_MAX and str(i) == k:
            return i
    return None


def key_order(k):
    """Firebase orders keys that are 32-bit integers first, numerically, then the others as strings."""
    i = _int_key(k)
    return (0, i, "") if i is not None else (1, 0, k)


def render(node):
    """Firebase's answer for a stored node: keys in Firebase's order, array-like objects as arrays."""
    if not isinstance(node, dict):
        return node
    indices = []
    for k in node:
        i = _int_key(k)
        if i is None or i < 0:
            indices = None
            break
        indices.append(i)
    if indices:
        top = max(indices)
        if len(indices) * 2 > top + 1:
            return [render(node.get(str(i))) for i in range(top + 1)]
    return {k: render(node[k]) for k in sorted(node, key=key_order)}


def raw(node):
    """The stored form with keys in Firebase's order (objects only, no arrays)."""
    if not isinstance(node, dict):
        return node
    return {k: raw(node[k]) for k in sorted(node, key=key_order)}


def shallow(node):
    if not isinstance(node, dict):
        return node
    return {k: (True if isinstance(node[k], dict) else node[k]) for k in sorted(node, key=key_order)}


def dumps(value, pretty=False):
    if pretty:
        return json.dumps(value, ensure_ascii=False, indent=2, separators=(",", " : "))
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def etag(node):
    if node is None:
        return "null_etag"
    return base64.b64encode(hashlib.sha1(dumps(render(node)).encode("utf-8", "surrogatepass")).digest()).decode()
