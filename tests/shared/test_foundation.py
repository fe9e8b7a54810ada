"""Health, authentication and the common error shape."""
import datetime as dt

import jwt


def test_health_needs_no_token(api):
    response = api.get("/health")
    assert response.status == 200
    assert response.json == {"status": "ok"}


def test_protected_route_needs_a_valid_pool_token(api, alice, agent):
    assert api.get("/me").status == 401
    assert api.get("/me", headers={"Authorization": "Bearer nonsense"}).status == 401
    response = api.get("/me", token=alice.token)
    assert response.status == 200
    assert response.json == {"user_id": alice.user_id, "username": "alice", "roles": []}
    assert api.get("/me", token=agent.token).json["roles"] == ["support"]


def test_401_uses_the_common_error_shape(api):
    response = api.get("/me", headers={"Authorization": "Bearer x.y.z"})
    assert response.status == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_forged_expired_and_foreign_tokens_are_rejected(aws, alice):
    import pytest

    from chalicelib.edge import auth
    payload = jwt.decode(alice.token, options={"verify_signature": False})
    forged = jwt.encode({**payload, "sub": "someone-else"}, "a-secret-that-is-long-enough-for-hs256!!",
                        algorithm="HS256", headers={"kid": "dummy"})
    with pytest.raises(auth.InvalidToken):
        auth.verify(forged)
    with pytest.raises(auth.InvalidToken):
        auth.verify("not-a-jwt")
    with pytest.raises(auth.InvalidToken):
        auth.bearer_token("Basic abc")


def test_expired_token_is_rejected(aws, alice):
    import pytest

    from chalicelib.edge import auth
    from chalicelib.kernel import clock
    # moto signs with a key pair we can't reach from here, so age the clock instead:
    # PyJWT checks exp against the real time, hence patch its notion of now.
    payload = jwt.decode(alice.token, options={"verify_signature": False})
    assert payload["exp"] > dt.datetime.now(dt.UTC).timestamp()
    import jwt.api_jwt as api_jwt
    real = api_jwt.datetime
    class Later(real):
        @classmethod
        def now(cls, tz=None):
            return real.now(tz) + dt.timedelta(hours=2)
    api_jwt.datetime = Later
    try:
        with pytest.raises(auth.InvalidToken):
            auth.verify(alice.token)
    finally:
        api_jwt.datetime = real
    assert clock.now()  # clock untouched


def test_missing_token_and_unknown_route_use_the_error_shape(api):
    response = api.get("/me")
    assert response.status == 401 and response.json["error"]["code"] == "unauthorized"
    response = api.get("/no/such/route")
    assert response.status == 404 and response.json["error"]["code"] == "not_found"


def test_chalice_refusals_use_the_error_shape(api, alice):
    form = api.request("POST", "/repayments/quote", body='{"amount": "1.00"}', token=alice.token,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 415
    assert form.json["error"]["code"] == "unsupported_media_type"
    assert "Content-Type" in form.json["error"]["message"]
    wrong_method = api.request("DELETE", "/health")
    assert wrong_method.status == 405 and wrong_method.json["error"]["code"] == "method_not_allowed"


def test_every_route_hands_unexpected_errors_to_the_error_middleware(api, monkeypatch):
    """Chalice answers an exception a view did not expect with its own bare 500 before any
    middleware runs; every route is wrapped (``api_contract``, or ``http.surface_errors`` for
    the two documentation routes) so ``errors_as_json`` decides instead (503 for AWS outages)."""
    import app as application
    from chalicelib.routes import operations

    unguarded = [f"{method} {path}" for path, methods in application.app.routes.items()
                 for method, entry in methods.items() if not getattr(entry.view_function, "surfaces_errors", False)]
    assert unguarded == []

    from botocore.exceptions import ClientError

    def throttled(_app):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "injected"}}, "GetItem")

    monkeypatch.setattr(operations, "document", throttled)
    response = api.get("/openapi.json")
    assert response.status == 503 and response.json["error"]["code"] == "service_unavailable"
    assert response.headers["retry-after"] == "2"
