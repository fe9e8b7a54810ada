"""One voice for DynamoDB: named transaction elements, and one mapping of what a failure means."""
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from chalicelib.adapters import aws
from chalicelib.config import settings


def _put(pk: str, *, new: bool = True) -> dict:
    put = {"TableName": settings().limits_table, "Item": aws.attributes({"pk": pk, "sk": "x"})}
    if new:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    return {"Put": put}


def test_a_failed_transaction_names_the_elements_whose_condition_did_not_hold(aws):
    from chalicelib.adapters import aws as clients
    clients.transact({"a": _put("A"), "b": _put("B")})
    with pytest.raises(clients.ConditionFailed) as lost:
        clients.transact({"c": _put("C"), "a": _put("A"), "b": _put("B")})
    assert lost.value.names == {"a", "b"} and "a" in lost.value and "c" not in lost.value
    with pytest.raises(clients.ConditionFailed) as single:   # one element: its single-item call
        clients.transact({"only": _put("A")})
    assert single.value.names == {"only"}
    clients.transact({"overwrite": _put("A", new=False)})


def _cancelled(reasons=None, message="Transaction cancelled"):
    response = {"Error": {"Code": "TransactionCanceledException", "Message": message}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "TransactWriteItems")


def test_cancellation_codes_come_from_the_reasons_or_from_an_older_motos_message():
    assert aws.cancellation_codes(_cancelled(["None", "ConditionalCheckFailed"])) == ["None", "ConditionalCheckFailed"]
    assert aws.cancellation_codes(_cancelled(message="Transaction cancelled, please refer cancellation reasons "
                                                     "for specific reasons [None, ConditionalCheckFailed]")) \
        == ["None", "ConditionalCheckFailed"]
    assert aws.cancellation_codes(ClientError({"Error": {"Code": "ValidationException"}}, "PutItem")) == []


@pytest.mark.parametrize("exc, label", [
    (ClientError({"Error": {"Code": "ThrottlingException"}}, "Query"), "ThrottlingException"),
    (ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem"),
     "ProvisionedThroughputExceededException"),
    (_cancelled(["None", "TransactionConflict"]), "TransactionCanceledException"),
    (_cancelled(["ThrottlingError"]), "TransactionCanceledException"),
    (EndpointConnectionError(endpoint_url="https://dynamodb.example"), "EndpointConnectionError"),
    (aws.TransactionContended({"case"}), "TransactionConflict"),
    (ClientError({"Error": {"Code": "ValidationException"}}, "PutItem"), None),
    (_cancelled(["ConditionalCheckFailed"]), None),
    (aws.ConditionFailed({"frozen"}), None),
    (ValueError("a bug"), None),
])
def test_one_mapping_says_which_failures_are_a_503(exc, label):
    assert aws.unavailable(exc) == label
