"""The OpenAPI 3.1 document, generated from the routes' :func:`~server.http.operations.operation`
declarations and the pydantic models they name: the same models that validate requests.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema
from sanic import Sanic

from server.http.operations import Operation, operation_of
from server.schemas.common import ErrorEnvelope

_PARAM = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)(?::[^>]*)?>")
_REF = "#/components/schemas/{model}"

REGISTRY_SCOPES = {
    "units:read": "read units of the client's region",
    "units:write": "push units and restrictions of the client's region",
    "contracts:read": "read filed contracts of the client's region",
    "contracts:write": "report acceptance / completion of registration",
}

AGENCY_SCOPES = {"contracts:read": "read the items its kind needs of the region's filed "
                                   "contracts"}

# What each error status means, whatever the operation (API.md, "Conventions").
_STATUS_TEXT = {
    400: "输入有误：`details.fields` 按字段路径给出原因",
    401: "未登录或令牌无效",
    403: "无权进行此操作",
    404: "不存在（或调用方无权看到）",
    409: "状态冲突",
    412: "版本不一致（If-Match）",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "业务规则不允许",
    428: "缺少 If-Match",
    429: "请求过于频繁（Retry-After）",
    502: "第三方服务返回了无法识别的结果",
    503: "第三方服务或本服务暂不可用",
    504: "第三方服务响应超时",
}
_DEFAULT_CODES = {400: "invalid_input, invalid_json", 401: "unauthenticated, invalid_token",
                  403: "forbidden, insufficient_scope", 404: "not_found",
                  413: "payload_too_large", 429: "rate_limited"}


def _openapi_path(route_path: str) -> str:
    return "/" + _PARAM.sub(lambda m: "{" + m.group(1) + "}", route_path.lstrip("/"))


def _models(operations: list[Operation]) -> list[type[BaseModel]]:
    seen: dict[type[BaseModel], None] = {ErrorEnvelope: None}
    for op in operations:
        answers = [m for a in op.responses.values() for m in (a if isinstance(a, tuple) else (a,))]
        for m in (op.body, *answers, *op.models):
            if isinstance(m, type) and issubclass(m, BaseModel):
                seen[m] = None
    return list(seen)


def _error_response(status: int, codes: str) -> dict[str, Any]:
    first = codes.split(",")[0].strip()
    return {
        "description": f"{_STATUS_TEXT.get(status, '错误')}。错误码：{codes}",
        "content": {"application/json": {
            "schema": {"$ref": _REF.format(model="ErrorEnvelope")},
            "example": {"error": {"code": first, "message": "…", "details": {}},
                        "request_id": "5f2c0a9e1b7d3c48"}}},
    }


def _answer(status: int, what: Any, refs: dict[type[BaseModel], str]) -> dict[str, Any]:
    if isinstance(what, tuple):  # the same answer in several media types (Accept decides)
        parts = [_answer(status, one, refs) for one in what]
        return {"description": parts[0]["description"],
                "content": {k: v for part in parts for k, v in part["content"].items()}}
    if what is None:
        return {"description": "无内容"}
    if isinstance(what, type) and issubclass(what, BaseModel):
        return {"description": (what.__doc__ or "成功").strip().splitlines()[0],
                "content": {"application/json": {"schema": {"$ref": refs[what]}}}}
    media = str(what)
    schema: dict[str, Any] = {"type": "string"}
    if not media.startswith("text/"):
        schema["contentMediaType"] = media
    return {"description": "成功", "content": {media: {"schema": schema}}}


def _parameters(op: Operation, path_names: list[str]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in path_names:
        kind = op.path.get(name, str)
        schema = TypeAdapter(kind).json_schema(ref_template=_REF)
        params.append({"name": name, "in": "path", "required": True,
                       "description": schema.pop("description", ""), "schema": schema})
    if op.query is not None:
        full = op.query.model_json_schema(ref_template=_REF)
        required = set(full.get("required", []))
        for name, schema in full.get("properties", {}).items():
            schema = dict(schema)
            schema.pop("title", None)
            params.append({"name": name, "in": "query", "required": name in required,
                           "description": schema.pop("description", ""), "schema": schema})
    for header in op.headers.values():
        schema = TypeAdapter(header.type).json_schema(ref_template=_REF)
        params.append({"name": header.name, "in": "header", "required": header.required,
                       "description": header.description, "schema": schema})
    return params


def _errors(op: Operation, has_input: bool, has_path: bool) -> dict[int, str]:
    errors: dict[int, str] = {}
    if has_input:
        errors[400] = _DEFAULT_CODES[400] if op.body is not None else "invalid_input"
    if op.security is not None:
        errors[401] = _DEFAULT_CODES[401]
    if isinstance(op.security, tuple):
        errors[403] = _DEFAULT_CODES[403]
    if has_path:
        errors[404] = _DEFAULT_CODES[404]
    if op.body is not None or op.raw_body:
        errors[413] = _DEFAULT_CODES[413]
    errors.update(op.errors)
    return dict(sorted(errors.items()))


def build_document(app: Sanic, *, title: str, version: str, description: str
                   ) -> dict[str, Any]:
    routes: list[tuple[str, str, Operation, list[str]]] = []
    for route in app.router.routes:
        op = operation_of(route.handler)
        if op is None:
            continue
        names = _PARAM.findall(route.path)
        for method in sorted(route.methods):
            if method in ("HEAD", "OPTIONS"):
                continue
            routes.append((_openapi_path(route.path), method.lower(), op, names))
    models = _models([op for _, _, op, _ in routes])
    keyed, top = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
    schemas = top.get("$defs", {})
    refs = {m: keyed[(m, "validation")]["$ref"] for m in models}

    paths: dict[str, dict[str, Any]] = {}
    for path, method, op, names in sorted(routes, key=lambda r: (r[0], r[1])):
        item: dict[str, Any] = {"summary": op.summary,
                                "operationId": f"{method}_{_operation_id(path)}"}
        if op.description:
            item["description"] = op.description
        if op.tag:
            item["tags"] = [op.tag]
        params = _parameters(op, names)
        if params:
            item["parameters"] = params
        if op.body is not None:
            item["requestBody"] = {"required": not op.body_optional, "content": {
                "application/json": {"schema": {"$ref": refs[op.body]}}}}
        elif op.raw_body:
            item["requestBody"] = {"required": True, "content": {
                media: {"schema": schema} for media, schema in op.raw_body.items()}}
        responses: dict[str, Any] = {str(s): _answer(s, what, refs)
                                     for s, what in op.responses.items()}
        has_input = bool(params) or op.body is not None
        for status, codes in _errors(op, has_input, bool(names)).items():
            responses[str(status)] = _error_response(status, codes)
        item["responses"] = responses
        if isinstance(op.security, str):
            item["security"] = [{op.security: []}]
        elif isinstance(op.security, tuple):
            item["security"] = [{op.security[0]: [op.security[1]]}]
        paths.setdefault(path, {})[method] = item

    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "小程序访问令牌（POST /api/v1/auth/login 获得）"},
                "registry": {"type": "oauth2",
                             "description": "登记机构的客户端凭证（client credentials）",
                             "flows": {"clientCredentials": {
                                 "tokenUrl": "/registry/v1/token",
                                 "scopes": REGISTRY_SCOPES}}},
                "agency": {"type": "oauth2",
                           "description": "税务、银行、公安、公积金等部门的客户端凭证",
                           "flows": {"clientCredentials": {
                               "tokenUrl": "/agency/v1/token",
                               "scopes": AGENCY_SCOPES}}},
                "staff": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                          "description": "服务网点工作人员的访问令牌（POST /api/v1/staff/login "
                          "获得）；小程序接口不接受"},
            },
        },
    }


def _operation_id(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
