"""The OpenAPI documents (the v1 surface, the control surface) and the routes that serve
them and a Swagger UI page showing both.

The documents ship inside the package (``mock_puresms/openapi/*.yaml``) and are served
as they are, as JSON: Swagger UI 5 reads OpenAPI 3.1 itself. The page loads nothing from
the network: its assets come from the ``swagger_ui_bundle`` package (installed by
``swagger-ui-bundle-v2``), served by the mock itself.
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
CONTROL_SPEC_URL = "/openapi/control.json"
ASSETS_URL = "/swagger/assets"

DOCUMENTS = {
    "v1": "openapi/v1.yaml",
    "connect": "openapi/connect.yaml",
    "control": "openapi/control.yaml",
}
"""Each packaged document by name: ``/openapi/{name}.json``."""

# The documents the page offers, the first shown first.
_SHOWN = (
    (SPEC_URL, "PureSMS v1 API"),
    (CONNECT_SPEC_URL, "PureSMS current API (Divergent Connect)"),
    (CONTROL_SPEC_URL, "mock-puresms control surface (/_mock)"),
)

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
    window.onload = function () {{
      window.ui = SwaggerUIBundle({{
        urls: {urls},
        dom_id: "#swagger-ui",
        deepLinking: true,
        validatorUrl: null,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        layout: "StandaloneLayout",
      }});
    }};
  </script>
</body>
</html>
"""


@functools.cache
def load_openapi(name: str = "v1") -> dict[str, object]:
    """Parse a packaged OpenAPI document (``v1``, ``connect``, ``control``); the cached dict is
    shared, so do not mutate it."""
    path = DOCUMENTS[name]
    source = resources.files("mock_puresms").joinpath(path)
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise RuntimeError(f"mock_puresms/{path} is not a YAML mapping")
    return document


@functools.cache
def openapi_json_bytes(name: str = "v1") -> bytes:
    """A packaged OpenAPI document serialised as JSON."""
    return orjson.dumps(load_openapi(name))


@functools.cache
def swagger_page() -> str:
    """The HTML of the Swagger UI page, pointing at local assets and the local documents."""
    urls = [{"url": url, "name": name} for url, name in _SHOWN]
    return _SWAGGER_PAGE.format(assets=ASSETS_URL, urls=orjson.dumps(urls).decode())


def swagger_assets_dir() -> Path:
    """The directory of Swagger UI's static files inside the swagger_ui_bundle package."""
    return Path(str(swagger_ui_bundle.swagger_ui_path))


def _document(name: str) -> Route:
    async def endpoint(request: Request) -> Response:
        return Response(openapi_json_bytes(name), media_type="application/json")

    return Route(f"/openapi/{name}.json", endpoint, methods=["GET"], name=f"openapi_{name}")


async def _openapi_endpoint(request: Request) -> Response:
    return Response(openapi_json_bytes(), media_type="application/json")


async def _swagger_endpoint(request: Request) -> Response:
    return HTMLResponse(swagger_page())


def routes() -> list[BaseRoute]:
    """The routes serving the OpenAPI documents, the Swagger UI page and its assets."""
    return [
        Route(SPEC_URL, _openapi_endpoint, methods=["GET"], name="swagger_json"),
        Route("/openapi.json", _openapi_endpoint, methods=["GET"], name="openapi_json"),
        *(_document(name) for name in DOCUMENTS),
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
