"""The algorithms a department's ds:Signature may use, and refusals that name the one it used.

    check_algorithms(signature)   # raises NotAuthenticated naming a refused algorithm

SHA-1 (rsa-sha1, ecdsa-sha1, dsa-sha1, hmac-sha1, the sha1 digest) is refused: collisions are
practical. Canonicalization is C14N 1.0, inclusive or exclusive (C14N 1.1, XPath, XSLT and
every other transform are refused). xmlsec is told the same lists (hub/security/signature.py),
so this check is the one that explains and xmlsec the one that enforces.
"""

from __future__ import annotations

import xmlsec
from lxml import etree

from hub.errors import NotAuthenticated

DS = "http://www.w3.org/2000/09/xmldsig#"
_C = xmlsec.constants

CANONICALIZATIONS = (_C.TransformExclC14N, _C.TransformInclC14N)
REFERENCE_TRANSFORMS = (
    _C.TransformExclC14N,
    _C.TransformExclC14NWithComments,
    _C.TransformInclC14N,
)
DIGESTS = (_C.TransformSha256, _C.TransformSha384, _C.TransformSha512)
SIGNATURE_METHODS = (
    _C.TransformRsaSha256,
    _C.TransformRsaSha384,
    _C.TransformRsaSha512,
    _C.TransformEcdsaSha256,
    _C.TransformEcdsaSha384,
    _C.TransformEcdsaSha512,
)
_SHA1 = frozenset(
    t.href
    for t in (
        _C.TransformSha1,
        _C.TransformRsaSha1,
        _C.TransformEcdsaSha1,
        _C.TransformDsaSha1,
        _C.TransformHmacSha1,
    )
)
SHA256_HINT = (
    "sign with rsa-sha256 (or ecdsa-sha256) and sha256 digests; with zeep: Signature(key, cert, "
    "signature_method=xmlsec.constants.TransformRsaSha256, "
    "digest_method=xmlsec.constants.TransformSha256)"
)
_C14N_HINT = f"use exclusive C14N ({_C.TransformExclC14N.href})"


def check_algorithms(signature: etree._Element) -> None:
    """Raise NotAuthenticated unless every algorithm ``signature`` names is accepted."""
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    if signed_info is None:
        raise NotAuthenticated("bad signature: no ds:SignedInfo")
    _check(signed_info, "CanonicalizationMethod", "canonicalization", CANONICALIZATIONS)
    _check(signed_info, "SignatureMethod", "signature method", SIGNATURE_METHODS)
    for reference in signed_info.iterfind(f"{{{DS}}}Reference"):
        for transform in reference.iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform"):
            _refuse_unless(transform.get("Algorithm"), "transform", REFERENCE_TRANSFORMS)
        _check(reference, "DigestMethod", "digest method", DIGESTS)


def _check(parent: etree._Element, tag: str, what: str, accepted: tuple[object, ...]) -> None:
    element = parent.find(f"{{{DS}}}{tag}")
    if element is None:
        raise NotAuthenticated(f"bad signature: no ds:{tag}")
    _refuse_unless(element.get("Algorithm"), what, accepted)


def _refuse_unless(algorithm: str | None, what: str, accepted: tuple[object, ...]) -> None:
    if algorithm in {getattr(t, "href", None) for t in accepted}:
        return
    if algorithm in _SHA1:
        raise NotAuthenticated(
            f"bad signature: {what} {algorithm} uses SHA-1, which is refused; {SHA256_HINT}"
        )
    hint = _C14N_HINT if what in ("canonicalization", "transform") else SHA256_HINT
    raise NotAuthenticated(f"bad signature: {what} {algorithm or '(none)'} is not accepted; {hint}")
