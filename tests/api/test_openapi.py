"""GET /api/schema: the OpenAPI 3.1 document generated from the routers' declarations,
which cannot drift from the URLconf and the views."""

import uuid

import pytest
from django.test import Client
from openapi_spec_validator import validate

from creations.presenters import creation_as_json
from phoenix.urls import api
from tests.security.conftest import PARAMETER, all_routes

document = api.document
METHODS = ["get", "head", "post", "put", "patch", "delete", "options"]


def api_routes():
    return [route for route in all_routes() if route.route.startswith("api/")]


def openapi_path(route) -> str:
    return "/" + PARAMETER.sub(lambda m: "{" + m["name"] + "}", route.route)


def test_the_document_is_valid_openapi_3_1():
    doc = document()
    assert doc["openapi"].startswith("3.1.")
    validate(doc)  # raises OpenAPIValidationError, naming the part at fault


def test_every_api_route_is_described_and_nothing_else():
    routes = {openapi_path(route) for route in api_routes()}
    described = set(document()["paths"])
    assert routes - described == set(), "api/ routes missing from the document"
    assert described - routes == set(), "paths in the document that the URLconf lacks"


def test_path_parameters_are_the_routes_own():
    paths = document()["paths"]
    for route in api_routes():
        converters = {name: converter for converter, name in route.parameters}
        for method, op in paths[openapi_path(route)].items():
            in_path = [p for p in op.get("parameters", []) if p["in"] == "path"]
            assert {p["name"] for p in in_path} == set(converters), (route, method)
            for parameter in in_path:
                # Ids are UUIDs; a creator is named by their username (community's follow).
                if converters[parameter["name"]] == "str":
                    assert parameter["name"] == "username", route
                    assert parameter["schema"]["type"] == "string", route
                    continue
                assert converters[parameter["name"]] == "uuid", route
                assert parameter["schema"] == {"type": "string", "format": "uuid"}, route


@pytest.mark.django_db
@pytest.mark.parametrize("route", api_routes(), ids=lambda route: "/" + route.route)
def test_it_describes_exactly_the_methods_the_view_accepts(route):
    """Asked anonymously with each method, a view answers 405 (refused: must not be
    described) or something else, 401 mostly (accepted: must be described)."""
    described = set(document()["paths"][openapi_path(route)])
    url = route.fill({name: uuid.uuid4() for _, name in route.parameters})
    client = Client()
    accepted = {
        method
        for method in METHODS
        if getattr(client, method)(url, content_type="application/json").status_code != 405
    }
    assert accepted == described, f"{url}: the view takes {accepted}, the schema says {described}"


@pytest.mark.django_db
def test_it_is_served_to_anyone_as_json_and_cacheable_briefly(client):
    response = client.get("/api/schema")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    assert "Set-Cookie" not in response
    assert response.json() == document()


def test_the_creation_schema_names_exactly_the_fields_the_presenter_writes(alice, make_creation):
    schema = document()["components"]["schemas"]["Creation"]
    for status in ("pending", "draft", "published"):
        written = creation_as_json(make_creation(owner=alice, status=status))
        assert set(written) == set(schema["properties"]) == set(schema["required"])
