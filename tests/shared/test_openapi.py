"""The published contract comes from the models the handlers validate with."""
import pytest
from openapi_spec_validator import validate


def test_openapi_document_is_valid_3_1_and_covers_protected_routes(api):
    response = api.get("/openapi.json")
    assert response.status == 200
    doc = response.json
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    me = doc["paths"]["/me"]["get"]
    assert me["security"] == [{"bearer": []}]
    assert "401" in me["responses"]
    assert doc["components"]["schemas"]["Me"]["properties"]["user_id"]["type"] == "string"


def test_docs_page_is_self_contained_html(api):
    response = api.get("/docs")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/health" in response.text and "http://" not in response.text and "https://" not in response.text


def test_two_different_models_of_one_name_are_refused_instead_of_sharing_a_schema():
    import pydantic

    from chalicelib.edge import openapi

    def model(fields: dict):
        return pydantic.create_model("NoticeView", **{k: (str, ...) for k in fields})

    components: dict = {}
    openapi._schema(model({"code": 1, "message": 1}), components)
    openapi._schema(model({"code": 1, "message": 1}), components)   # the same shape again: fine
    with pytest.raises(ValueError, match="NoticeView"):
        openapi._schema(model({"id": 1, "text": 1}), components)
