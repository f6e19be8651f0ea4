"""The OpenAPI schema and its docs page (Swagger UI from our own static files, under the
site's strict script policy)."""

import pytest
from django.contrib.staticfiles import finders

from tests.conftest import use_betterback_built_once

pytestmark = pytest.mark.django_db
betterback = use_betterback_built_once()  # loaded once for the module


def test_schema_lists_every_endpoint(client, coordinator, api):
    client.force_login(coordinator)
    r = client.get("/api/schema/?format=json")
    assert r.status_code == 200
    schema = r.json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/",
        "/api/v1/me/",
        "/api/v1/trials/{code}/",
        "/api/v1/trials/{code}/codebook/",
        "/api/v1/trials/{code}/participants/",
        "/api/v1/trials/{code}/participants/{study_id}/",
        "/api/v1/trials/{code}/participants/{study_id}/audit/",
        "/api/v1/trials/{code}/participants/{study_id}/responses/",
        "/api/v1/trials/{code}/responses/",
        "/api/v1/trials/{code}/scores/",
        "/api/v1/trials/{code}/contacts/",
        "/api/v1/trials/{code}/dataset.{fmt}",
        "/api/v1/trials/{code}/odm.xml",
        "/api/v1/trials/{code}/queries/",
        "/api/v1/trials/{code}/queries/{id}/",
        "/api/v1/trials/{code}/queries/{id}/answer/",
        "/api/v1/trials/{code}/queries/{id}/correct/",
        "/api/v1/trials/{code}/queries/{id}/close/",
        "/api/v1/trials/{code}/queries/{id}/reopen/",
    } <= paths
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    # A token reads it too (a script generating a client), and the call is logged.
    from accounts.models import AccessEvent

    token = api(coordinator)
    assert token.get("/api/schema/").status_code == 200
    logged = AccessEvent.objects.filter(kind=AccessEvent.API_CALL, path="/api/schema/")
    assert sorted(e.detail for e in logged) == ["GET 200", f"GET 200 token {token.token.prefix}"]


def test_schema_and_docs_need_a_login(unverified_client):
    assert unverified_client.get("/api/schema/").status_code == 403
    assert unverified_client.get("/api/docs/").status_code == 302


def test_docs_page_is_a_site_page_without_inline_script(client, coordinator):
    client.force_login(coordinator)
    r = client.get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'src="/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"' in html
    assert 'src="/static/js/api-docs.js"' in html
    assert 'data-schema-url="/api/schema/"' in html
    assert "<script>" not in html
    script_src = next(d for d in r["Content-Security-Policy"].split(";")
                      if d.strip().startswith("script-src"))
    assert script_src.split()[1:] == ["'self'"]
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert finders.find("js/api-docs.js")
    assert 'href="/api/tokens/"' in html  # the account menu's link


def test_schema_is_valid_openapi_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--file", str(tmp_path / "schema.yaml"), "--validate",
                 "--fail-on-warn")
    assert "/api/v1/trials/{code}/responses/" in (tmp_path / "schema.yaml").read_text()
