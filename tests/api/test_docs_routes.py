"""The routes serving the OpenAPI document and a Swagger UI page that needs no network."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mock_puresms.api import docs

SWAGGER_PAGES = ["/swagger", "/swagger/", "/swagger/index.html"]


class _References(HTMLParser):
    """Collects every src and href of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def referenced_urls(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(Starlette(routes=docs.routes())) as test_client:
        yield test_client


def test_document_is_served_as_json_at_both_urls(client: TestClient) -> None:
    swagger = client.get("/swagger/v1/swagger.json")
    openapi = client.get("/openapi.json")
    for response in (swagger, openapi):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
    assert swagger.content == openapi.content
    assert swagger.json() == docs.load_openapi()
    assert swagger.json()["openapi"] == "3.1.0"


@pytest.mark.parametrize("path", SWAGGER_PAGES)
def test_swagger_page_is_served(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '"/swagger/v1/swagger.json"' in response.text


def test_swagger_page_loads_nothing_from_the_network(client: TestClient) -> None:
    page = client.get("/swagger").text
    urls = referenced_urls(page)
    assert urls, "the page references no asset"
    for url in urls:
        assert url.startswith("/swagger/"), url
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    # Swagger UI calls validator.swagger.io unless told not to.
    assert "validatorUrl: null" in page


def test_every_asset_the_swagger_page_references_is_served(client: TestClient) -> None:
    urls = referenced_urls(client.get("/swagger").text)
    assert urls, "the page references no asset"
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content, url


def test_unknown_asset_is_404(client: TestClient) -> None:
    assert client.get("/swagger/assets/no-such-file.js").status_code == 404


def test_the_page_offers_both_documents_as_they_are(client: TestClient) -> None:
    page = client.get("/swagger").text
    found = re.search(r"urls: (\[.*?\]),\n", page)
    assert found is not None, page
    shown = json.loads(found[1])
    assert [entry["url"] for entry in shown] == [
        docs.SPEC_URL,
        docs.CONNECT_SPEC_URL,
        docs.CONTROL_SPEC_URL,
    ]
    for entry in shown:
        assert client.get(entry["url"]).json()["openapi"] == "3.1.0"
    # Swagger UI 5 reads OpenAPI 3.1: the page changes nothing in what it loads.
    assert "responseInterceptor" not in page and "3.0" not in page


def test_the_swagger_ui_served_reads_openapi_3_1(client: TestClient) -> None:
    bundle = client.get(f"{docs.ASSETS_URL}/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    found = re.search(r'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', bundle.text)
    assert found is not None
    # OpenAPI 3.1 support arrived in Swagger UI 5.0.
    assert int(found[1]) >= 5, found[0]
