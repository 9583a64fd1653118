"""OAuth2 token endpoint (service-account JWT bearer), GCE metadata server, bearer-token checks."""
import json
import secrets
import threading
import time
import urllib.parse

from . import rsa
from .util import GoogleError, Response, json_response

GOOGLE_TOKEN_AUD = "https://oauth2.googleapis.com/token"
LEGACY_AUDS = ("https://accounts.google.com/o/oauth2/token", "https://www.googleapis.com/oauth2/v4/token")
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
CLOCK_SKEW_S = 300  # accepted iat in the future


class TokenStore:
    def __init__(self, trusted_keys, project):
        self.lock = threading.Lock()
        self.tokens = {}  # token -> {"account","scopes","expiry"}
        self.keys = {}    # email -> [(kid, n, e)]
        self.project = project
        self.default_email = None
        for k in trusted_keys:
            self.keys.setdefault(k["client_email"], []).append((k["private_key_id"], int(k["n"], 16), int(k["e"])))
            self.default_email = self.default_email or k["client_email"]
        self.issued = 0

    def issue(self, account, scopes, lifetime=3599):
        tok = "ya29.fake-" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[tok] = {"account": account, "scopes": set(scopes), "expiry": time.time() + lifetime}
            self.issued += 1
        return tok

    def add_static(self, token, account="static-test@test-project.iam.gserviceaccount.com",
                   scopes=(CLOUD_PLATFORM,), expires_in=None):
        with self.lock:
            self.tokens[token] = {"account": account, "scopes": set(scopes),
                                  "expiry": time.time() + expires_in if expires_in is not None else float("inf")}

    def expire(self, token):
        with self.lock:
            if token in self.tokens:
                self.tokens[token]["expiry"] = 0

    def lookup(self, token):
        with self.lock:
            info = self.tokens.get(token)
        if info is None or info["expiry"] <= time.time():
            return None
        return info

    def reset(self):
        with self.lock:
            self.tokens.clear()
            self.issued = 0


def _grant_error(desc, error="invalid_grant"):
    return json_response({"error": error, "error_description": desc}, 400)


def token_endpoint(store, body, content_type):
    """POST /token: RFC 7523 JWT bearer grant as Google's OAuth2 server."""
    if "application/x-www-form-urlencoded" not in (content_type or ""):
        return _grant_error("Bad Request", "invalid_request")
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    grant = form.get("grant_type", [""])[0]
    if not grant:
        return _grant_error("Missing required parameter: grant_type", "invalid_request")
    if grant != JWT_BEARER:
        return _grant_error("Invalid grant_type: " + grant, "unsupported_grant_type")
    assertion = form.get("assertion", [""])[0]
    parts = assertion.split(".")
    if len(parts) != 3:
        return _grant_error("Invalid JWT: Unexpected number of segments.", "invalid_request")
    try:
        header = json.loads(rsa.b64url_decode(parts[0]))
        claims = json.loads(rsa.b64url_decode(parts[1]))
        sig = rsa.b64url_decode(parts[2])
    except Exception:
        return _grant_error("Invalid JWT: Unable to parse JWT segments.", "invalid_request")
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return _grant_error("Invalid JWT: Unable to parse JWT segments.", "invalid_request")
    if header.get("alg") != "RS256":
        return _grant_error("Invalid JWT Signature.")
    iss = claims.get("iss")
    keys = store.keys.get(iss)
    if not keys:
        return _grant_error("Invalid grant: account not found")
    kid = header.get("kid")
    candidates = [k for k in keys if kid is None or k[0] == kid]
    signed = (parts[0] + "." + parts[1]).encode()
    if not any(rsa.verify(signed, sig, n, e) for _, n, e in candidates):
        return _grant_error("Invalid JWT Signature.")
    aud = claims.get("aud")
    own = store.own_token_uri if hasattr(store, "own_token_uri") else None
    if aud not in (GOOGLE_TOKEN_AUD, own) + LEGACY_AUDS:
        return _grant_error("Invalid JWT: Failed audience check. The expected value was %s. "
                            "The JWT audience was %r." % (GOOGLE_TOKEN_AUD, aud))
    iat, exp = claims.get("iat"), claims.get("exp")
    now = time.time()
    if (not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)) or isinstance(iat, bool)
            or exp - iat > 3600 or exp <= iat or exp <= now or iat > now + CLOCK_SKEW_S):
        return _grant_error("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                            "timeframe. Check your iat and exp values in the JWT claim.")
    scope = claims.get("scope")
    if not isinstance(scope, str) or not scope.strip():
        # A JWT without scope but with target_audience asks for an ID token; not supported here.
        return _grant_error("Invalid OAuth scope or ID token audience provided.", "invalid_scope")
    account = claims.get("sub") or iss
    tok = store.issue(account, scope.split())
    return json_response({"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})


def metadata(store, method, path, query, headers):
    """GCE metadata server under /computeMetadata/v1/."""
    if headers.get("Metadata-Flavor") != "Google":
        return Response(403, "Missing required header: Metadata-Flavor\n", {"Metadata-Flavor": "Google"},
                        "text/html; charset=UTF-8")
    if "X-Forwarded-For" in headers:
        return Response(403, "Forbidden\n", {"Metadata-Flavor": "Google"}, "text/html")
    mf = {"Metadata-Flavor": "Google"}
    rest = path[len("/computeMetadata/v1/"):] if path.startswith("/computeMetadata/v1/") else None
    email = store.default_email or "default@test-project.iam.gserviceaccount.com"
    sa_prefix = "instance/service-accounts/"
    if rest is not None and rest.startswith(sa_prefix):
        acct, _, leaf = rest[len(sa_prefix):].partition("/")
        if acct not in ("default", email):
            return Response(404, "Not Found\n", mf, "text/html")
        if leaf == "token":
            scopes = query.get("scopes", [""])[0]
            scopes = [s for s in scopes.replace(",", " ").split() if s] or [CLOUD_PLATFORM]
            tok = store.issue(email, scopes)
            r = json_response({"access_token": tok, "expires_in": 3599, "token_type": "Bearer"}, headers=mf)
            return r
        if leaf == "email":
            return Response(200, email, mf, "application/text")
        if leaf == "scopes":
            return Response(200, CLOUD_PLATFORM + "\n", mf, "application/text")
        if leaf in ("", "/"):
            return Response(200, "aliases\nemail\nidentity\nscopes\ntoken\n", mf, "application/text")
    if rest == "project/project-id":
        return Response(200, store.project, mf, "application/text")
    if rest == "project/numeric-project-id":
        return Response(200, "123456789012", mf, "application/text")
    if rest == "instance/service-accounts/" or rest == "instance/service-accounts":
        return Response(200, "default/\n%s/\n" % email, mf, "application/text")
    if path in ("/", "/computeMetadata/v1", "/computeMetadata/v1/"):
        return Response(200, "instance/\nproject/\n", mf, "application/text")
    return Response(404, "Not Found\n", mf, "text/html")


BQ_SCOPES = {CLOUD_PLATFORM, "https://www.googleapis.com/auth/bigquery",
             "https://www.googleapis.com/auth/bigquery.readonly", "https://www.googleapis.com/auth/cloud-platform.read-only"}
GCS_SCOPES = {CLOUD_PLATFORM, "https://www.googleapis.com/auth/cloud-platform.read-only",
              "https://www.googleapis.com/auth/devstorage.read_only", "https://www.googleapis.com/auth/devstorage.read_write",
              "https://www.googleapis.com/auth/devstorage.full_control"}


def require_bearer(store, headers, query, service):
    """Returns the token info or raises GoogleError(401/403) in the service's error style."""
    auth = headers.get("Authorization", "")
    token = None
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            token = value.strip()
    elif "access_token" in query:
        token = query["access_token"][0]
    gcs = service == "gcs"
    www = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
    if token is None:
        if gcs:
            raise GoogleError(401, "Anonymous caller does not have storage.objects.list access to the Google "
                              "Cloud Storage bucket. Permission 'storage.objects.list' denied on resource "
                              "(or it may not exist).", "required", status=False, location="Authorization",
                              location_type="header", headers=www)
        raise GoogleError(401, "Request is missing required authentication credential. Expected OAuth 2 access "
                          "token, login cookie or other valid authentication credential. See "
                          "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                          "required", location="Authorization", location_type="header", headers=www)
    info = store.lookup(token)
    if info is None:
        if gcs:
            raise GoogleError(401, "Invalid Credentials", "authError", status=False, location="Authorization",
                              location_type="header", headers=www)
        raise GoogleError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                          "login cookie or other valid authentication credential. See "
                          "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                          "authError", location="Authorization", location_type="header", headers=www)
    needed = GCS_SCOPES if gcs else BQ_SCOPES
    if not (info["scopes"] & needed):
        raise GoogleError(403, "Request had insufficient authentication scopes.", "insufficientPermissions",
                          status=not gcs,
                          headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                                   'error="insufficient_scope"'})
    return info
