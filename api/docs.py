"""The API's documentation page: a DSFR page generated from the OpenAPI schema (no third-party script)."""

from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    ops = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            ops.append({
                "method": method.upper(),
                "path": path,
                "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "scopes": op.get("x-scope", ""),
                "parameters": [
                    {"name": p["name"], "where": p["in"], "required": p.get("required", False),
                     "type": p.get("schema", {}).get("type", ""), "enum": p.get("schema", {}).get("enum", []),
                     "description": p.get("description", "")}
                    for p in op.get("parameters", [])
                ],
                "responses": sorted(op.get("responses", {})),
            })
    return schema["info"], ops


def documentation(request):
    info, operations = _operations()
    return render(request, "api/documentation.html", {"info": info, "operations": operations})
