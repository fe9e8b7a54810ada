"""Hostile bodies on JSON routes: a clear 4xx in the common shape, never a 500 (#11)."""
import pytest

DEEP = [b"[" * 5000, b'{"a":' * 5000, b'{"category": ' + b"[" * 100_00 + b"]" * 100_00 + b"}"]


@pytest.mark.parametrize("body", DEEP, ids=["arrays", "objects", "inside-a-field"])
@pytest.mark.parametrize("path, authed", [("/repayments/quote", True), ("/support/cases", True),
                                          ("/kb/articles/repayment-delay/feedback", False)])
def test_deeply_nested_json_is_a_400(api, alice, path, authed, body):
    response = api.post(path, body=body, token=alice.token if authed else None)
    assert response.status == 400, response.text
    assert response.json["error"]["code"] == "invalid_json"
    assert "嵌套" in response.json["error"]["message"]


def test_brackets_inside_strings_do_not_count_as_nesting(api, alice):
    description = "[[[[" * 20 + "还款没到账" + "]]]]" * 20 + '\\"{{{{' * 10
    response = api.post("/support/cases", token=alice.token,
                        body=f'{{"category": "fees", "description": "{description}"}}')
    assert response.status == 201, response.text
    assert response.json["description"].startswith("[[[[")


def test_moderate_nesting_is_judged_by_the_schema_not_refused_as_json(api, alice):
    response = api.post("/support/cases", token=alice.token, body=b'{"category": ' + b"[" * 20 + b"]" * 20 + b"}")
    assert response.status == 400 and response.json["error"]["code"] != "invalid_json"


def test_the_depth_limit_counts_arrays_and_objects_alike():
    from chalicelib.edge import httpio
    level_32 = b'{"a":' * 16 + b"[" * 16 + b"]" * 16 + b"}" * 16
    assert not httpio._nested_too_deep(level_32)
    assert httpio._nested_too_deep(b"[" + level_32 + b"]")
    assert httpio._nested_too_deep(b"[{" * 17 + b"}]" * 17)
    assert not httpio._nested_too_deep(b'{"s":"' + b"[" * 100 + b'\\"' + b"{" * 100 + b'"}')
