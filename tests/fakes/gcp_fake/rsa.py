"""Minimal RSA (PKCS#1 v1.5, SHA-256) in pure Python: DER reading, sign, verify.

Only what the fakes and their tests need; not constant-time, not for production.
"""
import base64
import hashlib

# DigestInfo prefix for SHA-256 (RFC 8017 section 9.2 note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _der_read(buf, pos):
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    return tag, buf[pos:pos + length], pos + length


def _der_children(content):
    out, pos = [], 0
    while pos < len(content):
        tag, val, pos = _der_read(content, pos)
        out.append((tag, val))
    return out


def pem_to_der(pem):
    lines = [l.strip() for l in pem.strip().splitlines() if l.strip() and not l.startswith("-----")]
    return base64.b64decode("".join(lines))


def private_key_from_pem(pem):
    """PKCS#8 ("BEGIN PRIVATE KEY") or PKCS#1 ("BEGIN RSA PRIVATE KEY") -> dict(n, e, d)."""
    der = pem_to_der(pem)
    tag, seq, _ = _der_read(der, 0)
    kids = _der_children(seq)
    if "BEGIN PRIVATE KEY" in pem:  # PKCS#8: version, algorithm, OCTET STRING(RSAPrivateKey)
        _, rsa_seq, _ = _der_read(kids[2][1], 0)
        kids = _der_children(rsa_seq)
    ints = [int.from_bytes(v, "big") for t, v in kids if t == 0x02]
    return {"n": ints[1], "e": ints[2], "d": ints[3]}


def _emsa(message, k):
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def sign(message, key):
    k = (key["n"].bit_length() + 7) // 8
    m = int.from_bytes(_emsa(message, k), "big")
    return pow(m, key["d"], key["n"]).to_bytes(k, "big")


def verify(message, signature, n, e):
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    return em == _emsa(message, k)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
