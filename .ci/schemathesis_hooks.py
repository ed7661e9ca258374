"""Schemathesis hooks for .ci/schemathesis_run.py: feed the ids of seeded data into the generated
cases, so that each operation reaches its success path, and record every answer.

MAATJE_CONTRACT_FIXTURES names a JSON file written by the runner:
  {"path":  {operationId: {parameter: value}},   replaces a generated (valid) uuid path parameter
   "query": {operationId: {parameter: value}},   sets the query parameter
   "body":  {operationId: {field: value}},       sets the field of a JSON object body where
                                                  generated ("-field": removes it)
   "auth":  {operationId: [token, ...]}}         one token per call (for logout), then the last
MAATJE_CONTRACT_CALLS names a file to which one JSON line per answer is appended:
  {"op": operationId, "status": 200, "mode": "positive"}
"""

from __future__ import annotations

import json
import os
import uuid

import schemathesis

with open(os.environ["MAATJE_CONTRACT_FIXTURES"]) as f:
    FIXTURES = json.load(f)
CALLS = open(os.environ["MAATJE_CONTRACT_CALLS"], "a", buffering=1)


def operation_id(case) -> str:
    return case.operation.definition.raw.get("operationId") or case.operation.label


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
        return True
    except ValueError:
        return False


@schemathesis.hook
def before_call(context, case, kwargs):
    op = operation_id(case)
    # Only where the generated value was a valid uuid: invalid ids stay, to test the 400.
    for name, value in FIXTURES["path"].get(op, {}).items():
        if case.path_parameters and name in case.path_parameters and is_uuid(case.path_parameters[name]):
            case.path_parameters[name] = value
    query = FIXTURES["query"].get(op)
    if query:
        case.query = {**(case.query or {}), **query}
    body = FIXTURES["body"].get(op)
    if body and isinstance(case.body, dict):
        for name, value in body.items():
            if name.startswith("-"):
                case.body.pop(name[1:], None)
            elif name in case.body:
                case.body[name] = value
    tokens = FIXTURES["auth"].get(op)
    if tokens and case.headers is not None and "Authorization" in case.headers:
        token = tokens.pop(0) if len(tokens) > 1 else tokens[0]
        case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.hook
def after_call(context, case, response):
    mode = getattr(getattr(getattr(case, "meta", None), "generation", None), "mode", None)
    # The `unsupported_method` check sends the operation's case with another method (OPTIONS,
    # TRACE, ...): record the method sent, so that such an answer (OPTIONS is a 204 for anyone)
    # is not counted as the operation's own.
    request = getattr(response, "request", None)
    sent = str(getattr(request, "method", "") or case.method).upper()
    CALLS.write(
        json.dumps({"op": operation_id(case), "status": response.status_code,
                    "own_method": sent == str(case.operation.method).upper(),
                    "mode": str(getattr(mode, "value", mode))})
        + "\n"
    )
