"""The OpenAPI document of the v1 surface, and the routes that serve it and Swagger UI.

The document ships inside the package (``mock_puresms/openapi/v1.yaml``) and is served
as is, as JSON. The Swagger UI page loads nothing from the network: its assets come
from the ``swagger_ui_bundle`` package, served by the mock itself.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import orjson
import swagger_ui_bundle
import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

SPEC_URL = "/swagger/v1/swagger.json"
CONNECT_SPEC_URL = "/openapi/connect.json"
# The documents the page offers, first shown first: (URL, name in its selector).
DOCUMENTS = (
    (SPEC_URL, "PureSMS v1"),
    (CONNECT_SPEC_URL, "PureSMS current API (Divergent Connect)"),
)
ASSETS_URL = "/swagger/assets"

# Swagger UI 4 (the version swagger_ui_bundle 1.1 ships) renders OpenAPI 3.0 only, so the
# page rewrites the 3.1 document into 3.0 terms in the browser, for display only: the
# document served at SPEC_URL stays the 3.1 source of truth.
_SWAGGER_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>PureSMS API (mock-puresms)</title>
  <link rel="stylesheet" type="text/css" href="{assets}/swagger-ui.css">
  <link rel="stylesheet" type="text/css" href="{assets}/index.css">
  <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="{assets}/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="{assets}/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    const specUrls = {specs};

    // begin: OpenAPI 3.1 to 3.0
    function toOpenApi30(node) {{
      if (Array.isArray(node)) return node.map(toOpenApi30);
      if (node === null || typeof node !== "object") return node;
      const out = {{}};
      for (const [key, value] of Object.entries(node)) out[key] = toOpenApi30(value);
      if (Array.isArray(out.type)) {{
        const types = out.type.filter((t) => t !== "null");
        if (types.length < out.type.length) out.nullable = true;
        if (types.length === 1) out.type = types[0];
        else delete out.type;
      }}
      for (const key of ["anyOf", "oneOf"]) {{
        if (!Array.isArray(out[key])) continue;
        const rest = out[key].filter((s) => !(s && s.type === "null"));
        if (rest.length === out[key].length) continue;
        out.nullable = true;
        delete out[key];
        if (rest.length === 1) out.allOf = rest;
        else out[key] = rest;
      }}
      // Only schemas hold an examples array (a media type's examples is a map).
      if (Array.isArray(out.examples)) {{
        if (out.examples.length > 0) out.example = out.examples[0];
        delete out.examples;
      }}
      for (const key of ["if", "then", "else", "propertyNames", "const"]) delete out[key];
      return out;
    }}

    function showableSpec(text) {{
      const spec = toOpenApi30(JSON.parse(text));
      spec.openapi = "3.0.3";
      delete spec.info.summary;
      return spec;
    }}
    // end: OpenAPI 3.1 to 3.0

    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        urls: specUrls,
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout",
        responseInterceptor: (response) => {{
          const url = (response.url || "").split("?")[0];
          if (response.ok && specUrls.some((spec) => url.endsWith(spec.url))) {{
            const spec = showableSpec(response.text);
            response.text = JSON.stringify(spec);
            response.data = response.text;
            response.body = spec;
            response.obj = spec;
          }}
          return response;
        }},
      }});
    }};
  </script>
</body>
</html>
"""


@functools.cache
def load_openapi(name: str = "v1") -> dict[str, object]:
    """Parse a packaged OpenAPI document (``v1`` or ``connect``); the cached dict is
    shared, so do not mutate it."""
    source = resources.files("mock_puresms").joinpath(f"openapi/{name}.yaml")
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise RuntimeError(f"mock_puresms/openapi/{name}.yaml is not a YAML mapping")
    return document


@functools.cache
def openapi_json_bytes(name: str = "v1") -> bytes:
    """A packaged OpenAPI document serialised as JSON."""
    return orjson.dumps(load_openapi(name))


@functools.cache
def swagger_page() -> str:
    """The HTML of the Swagger UI page, pointing at local assets and the local document."""
    specs = [{"url": url, "name": name} for url, name in DOCUMENTS]
    return _SWAGGER_PAGE.format(assets=ASSETS_URL, specs=orjson.dumps(specs).decode())


def swagger_assets_dir() -> Path:
    """The directory of Swagger UI's static files inside the swagger_ui_bundle package."""
    return Path(str(swagger_ui_bundle.swagger_ui_path))


async def _openapi_endpoint(request: Request) -> Response:
    return Response(openapi_json_bytes(), media_type="application/json")


async def _connect_openapi_endpoint(request: Request) -> Response:
    return Response(openapi_json_bytes("connect"), media_type="application/json")


async def _swagger_endpoint(request: Request) -> Response:
    return HTMLResponse(swagger_page())


def routes() -> list[BaseRoute]:
    """The routes serving the OpenAPI document, the Swagger UI page and its assets."""
    return [
        Route(SPEC_URL, _openapi_endpoint, methods=["GET"], name="swagger_json"),
        Route("/openapi.json", _openapi_endpoint, methods=["GET"], name="openapi_json"),
        Route(
            CONNECT_SPEC_URL,
            _connect_openapi_endpoint,
            methods=["GET"],
            name="connect_openapi_json",
        ),
        # Listed one by one: the page must not depend on slash redirects or case folding.
        Route("/swagger", _swagger_endpoint, methods=["GET"], name="swagger"),
        Route("/swagger/", _swagger_endpoint, methods=["GET"], name="swagger_slash"),
        Route("/swagger/index.html", _swagger_endpoint, methods=["GET"], name="swagger_index"),
        Mount(
            ASSETS_URL,
            app=StaticFiles(directory=swagger_assets_dir()),
            name="swagger_assets",
        ),
    ]
