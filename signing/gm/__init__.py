"""国密 (GM/T) cryptography: SM2 signatures over SM3, the identifiers, and GB/T 38540 seals.

pyca/cryptography has no SM2, so :mod:`.sm2` drives the system OpenSSL 3 through its
EVP interface; :mod:`.oids` teaches asn1crypto the GM/T identifiers the certificates,
CMS structures and seals carry.
"""
