"""Request paths and the sweep read through keys and indexes only: any DynamoDB Scan fails the test."""
import datetime as dt


def test_case_routes_and_the_sweep_never_scan(api, alice, agent, lead, clock, sweep, open_case):
    from chalicelib.adapters import aws
    from chalicelib.config import settings

    scans = []

    def refuse_scan(**kwargs):
        scans.append(kwargs.get("params", {}).get("TableName"))
        raise AssertionError("DynamoDB Scan on a request path")
    for client in (aws.client("dynamodb"), aws.table(settings().cases_table).meta.client,
                   aws.table(settings().outbox_table).meta.client):
        client.meta.events.register("before-call.dynamodb.Scan", refuse_scan)

    case_id = open_case(alice)["case_id"]
    assert api.get(f"/support/cases/{case_id}", token=alice.token).status == 200
    assert api.get("/support/cases", token=alice.token).status == 200
    assert api.get("/support/queues/frontline", token=agent.token).status == 200
    assert api.post(f"/support/cases/{case_id}/notes", token=agent.token, json_body={"text": "备注"}).status == 201
    clock.advance(dt.timedelta(hours=3, minutes=30))
    assert sweep()["warned"] == 1
    clock.advance(dt.timedelta(hours=1))
    assert sweep()["escalated"] == 1
    resolved = api.post(f"/support/cases/{case_id}/resolve", token=lead.token, json_body={"summary": "已处理"})
    assert resolved.status == 200
    clock.advance(dt.timedelta(days=8))
    assert sweep()["closed"] == 1
    assert scans == []
