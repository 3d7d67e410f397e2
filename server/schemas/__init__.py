"""The API's shapes, one source of truth: pydantic v2 models for every body, query and answer.

Handlers validate requests with them (:mod:`server.http.validation`) and
the OpenAPI document is generated from them (:mod:`server.http.openapi`).
They check structure only (types, lengths, character classes, enums); the
business rules stay in :mod:`server.domain`.
"""
