"""Roles come from the token's ``cognito:groups`` list only, and travel to the route as a list (#11)."""
import time

import jwt
import pytest


@pytest.fixture
def own_signer(aws, monkeypatch):
    """Sign tokens with claims of our choosing: the pool's key lookup answers with a key made here."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from chalicelib.config import settings
    from chalicelib.edge import auth
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.PyJWK.from_dict({**jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key(), as_dict=True),
                                  "kid": "test", "alg": "RS256"})
    monkeypatch.setattr(auth.keys, "key", lambda kid: public)

    def sign(**claims) -> str:
        cfg = settings()
        base = {"sub": "user-1", "iss": cfg.issuer, "aud": cfg.user_pool_client_id, "token_use": "id",
                "cognito:username": "mallory", "exp": int(time.time()) + 600}
        return jwt.encode({**base, **claims}, private, algorithm="RS256", headers={"kid": "test"})
    return sign


def test_a_group_name_with_a_comma_is_one_role(api, make_user, aws):
    from chalicelib.adapters import aws as aws_clients
    idp = aws_clients.client("cognito-idp")
    idp.create_group(UserPoolId=aws.pool_id, GroupName="x,senior-support")
    make_user("mallory")
    idp.admin_add_user_to_group(UserPoolId=aws.pool_id, Username="mallory", GroupName="x,senior-support")
    mallory = make_user("mallory")  # a fresh token carrying the group
    assert api.get("/me", token=mallory.token).json["roles"] == ["x,senior-support"]
    refused = api.post(f"/support/accounts/{mallory.user_id}/unfreeze", token=mallory.token)
    assert refused.status == 403 and refused.json["error"]["code"] == "forbidden_role"
    assert api.get("/support/queues/senior", token=mallory.token).status == 403


@pytest.mark.parametrize("groups", ["senior-support", "support,senior-support", {"support": True}, ["support", 1],
                                    [""]])
def test_groups_claim_other_than_a_list_of_names_is_refused(api, own_signer, groups):
    refused = api.get("/me", token=own_signer(**{"cognito:groups": groups}))
    assert refused.status == 401 and refused.json["error"]["code"] == "unauthorized"


def test_a_list_of_groups_signed_by_the_pool_is_accepted(api, own_signer, make_user):
    make_user("mallory", role="support")   # a staff token is accepted only for an account with an authenticator
    assert api.get("/me", token=own_signer(**{"cognito:groups": ["support"]})).json["roles"] == ["support"]
    assert api.get("/me", token=own_signer()).json["roles"] == []


@pytest.mark.parametrize("context_groups", ["support", "senior-support,support", "{}", '"support"', "[1]"])
def test_roles_in_the_authorizer_context_are_parsed_strictly(context_groups):
    from types import SimpleNamespace

    from chalicelib.edge import errors, httpio
    request = SimpleNamespace(context={"authorizer": {"principalId": "u1", "groups": context_groups}})
    with pytest.raises(errors.Unauthorized):
        httpio.actor(request)
    request.context["authorizer"]["groups"] = httpio.roles_context(["x,senior-support"])
    assert httpio.actor(request).roles == frozenset({"x,senior-support"})
