"""Official contact channels (GET /contacts) and the impersonation-scam number check (GET /contacts/verify)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from chalicelib.search import contacts

ROOT = Path(__file__).resolve().parents[2]
KB_CONTACTS = ROOT / "kb" / "contacts.yaml"


def verify(api, number: str):
    return api.get(f"/contacts/verify?number={quote(number)}")


def test_security_hotline_in_the_directory_is_the_one_the_service_tells_frozen_users(aws):
    from chalicelib.config import settings
    book = yaml.safe_load(KB_CONTACTS.read_text(encoding="utf-8"))
    security = [line for line in book["hotlines"] if line["id"] == "security"]
    assert [line["number"] for line in security] == [settings().security_hotline] == ["010-0000-1002"]


def test_contacts_lists_every_official_channel_and_the_regulator_lines(api):
    response = api.get("/contacts")
    assert response.status == 200
    book = response.json
    numbers = {line["id"]: line["number"] for line in book["hotlines"]}
    assert numbers["security"] == "010-0000-1002"
    assert numbers["customer_service"] == "010-0000-1001" and numbers["backup"] == "021-0000-1003"
    assert all(line["hours"] for line in book["hotlines"])
    assert "在线客服" in book["online_chat"]["path"] and book["online_chat"]["hours"]
    assert "@" in book["email"]["address"]
    assert {"新浪微博", "微信公众号"} <= {account["platform"] for account in book["social"]}
    assert {"12363", "12378", "12315"} == {line["number"] for line in book["regulators"]}


@pytest.mark.parametrize("typed, line_id", [
    ("010-0000-1002", "security"),
    ("0 1 0 0 0 0 0 1 0 0 2", "security"),
    ("+86 010-0000-1002", "security"),
    ("0086-010-0000-1001", "customer_service"),
    ("010-0000-1001", "customer_service"),
    ("021-0000-1003", "backup"),
    ("021 0000 1003", "backup"),
    ("(021) 0000-1003", "backup"),
    ("+86 (021) 0000 1003", "backup"),
    ("０２１－００００－１００３", "backup"),          # full-width digits and dash from a Chinese IME
    ("（021）00001003", "backup"),
])
def test_official_numbers_are_recognised_however_they_are_written(api, typed, line_id):
    response = verify(api, typed)
    assert response.status == 200, response.text
    check = response.json
    assert check["official"] is True and check["status"] == "official" and check["verdict"] == "official"
    assert check["channel"]["id"] == line_id
    assert check["channel"]["number"] in check["message"]


@pytest.mark.parametrize("typed, status", [
    ("010-0000-10020", "lookalike"),            # one digit added to the security line
    ("1002", "lookalike"),
    ("0571-010-0000-1002", "lookalike"),        # ours inside a longer number
    ("010-0000-9001", "unknown"),               # on the verified scam list (kb/scam_numbers.yaml)
    ("0755 0000 1001", "unknown"),
    ("+44 20 0000 1002", "foreign"),
])
def test_a_known_scam_pattern_is_called_one(api, typed, status):
    check = verify(api, typed).json
    assert (check["verdict"], check["status"], check["official"], check["channel"]) == (
        "scam_pattern", status, False, None)
    assert "诈骗" in check["message"] and "不要提供验证码" in check["warning"]
    assert "010-0000-1002" in check["message"]   # the official numbers, to call instead
    assert check["article"] == {"slug": "fake-hotline-scams", "title": check["article"]["title"],
                                "url": "/help/articles/fake-hotline-scams"}
    assert (ROOT / "kb" / "fake-hotline-scams.md").is_file()


@pytest.mark.parametrize("typed, status", [
    ("95588", "unknown"),                       # a real bank's official customer-service number
    ("021-0000-1004", "unknown"),
    ("021-12345678", "unknown"),
    ("13800138000", "mobile"),
    ("+86 138 0013 8000", "mobile"),
    ("+1 415 555 0100", "foreign"),
    ("00852 2345 6789", "foreign"),
    ("12378", "regulator"),
])
def test_a_number_that_is_not_ours_is_called_not_ours_not_a_scam(api, typed, status):
    check = verify(api, typed).json
    assert (check["verdict"], check["status"], check["official"], check["channel"]) == ("not_ours", status, False, None)
    assert "不是本钱包的" in check["message"]
    said = check["message"] + check["warning"]
    assert "诈骗" not in said and "可能是" not in said   # no fraud verdict on someone else's number
    if status != "regulator":
        # what to do if they say they are us
        assert "自称本钱包客服" in check["warning"] and "验证码" in check["warning"]
        assert "010-0000-1002" in check["message"]


def test_the_scam_list_is_data_beside_the_contacts_and_read_as_users_type(aws, monkeypatch, tmp_path):
    """A number added to scam_numbers.yaml (beside the contacts file) is a known scam however it is written; without
    the file, the same number is simply not ours."""
    from chalicelib import config
    rotated = tmp_path / "contacts.yaml"
    rotated.write_text(KB_CONTACTS.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("CONTACTS_PATH", str(rotated))
    config.reload()
    assert contacts.verify_number("021-0000-7777").verdict == "not_ours"
    (tmp_path / "scam_numbers.yaml").write_text(yaml.safe_dump({"version": "test", "numbers": [
        {"number": "021-0000-7777", "pattern": "冒充客服办理注销", "verified": "2026-12-01"}]}, allow_unicode=True),
        encoding="utf-8")
    check = contacts.verify_number("+86 (021) 0000 7777")
    assert check.verdict == "scam_pattern" and "冒充客服办理注销" in check.message
    assert contacts.verify_number("95588").verdict == "not_ours"


def test_the_shipped_scam_list_never_names_an_official_number():
    from chalicelib.search.contacts import ScamList, digits
    listed = ScamList.model_validate(yaml.safe_load((ROOT / "kb" / "scam_numbers.yaml").read_text(encoding="utf-8")))
    book = yaml.safe_load(KB_CONTACTS.read_text(encoding="utf-8"))
    ours = {digits(line["number"]) for line in book["hotlines"] + book["regulators"]}
    assert listed.numbers and not {digits(entry.number) for entry in listed.numbers} & ours


def test_a_regulator_line_is_named_but_not_passed_off_as_the_wallets(api):
    check = verify(api, "12363").json
    assert check["official"] is False and check["status"] == "regulator" and check["verdict"] == "not_ours"
    assert "人民银行" in check["regulator"]["name"] and "不是本钱包的客服号码" in check["message"]


@pytest.mark.parametrize("path", [
    "/contacts/verify",
    "/contacts/verify?number=",
    "/contacts/verify?number=abc",
    "/contacts/verify?number=010-0000-1002%3Cscript%3E",
    "/contacts/verify?number=12",
    "/contacts/verify?number=" + "1" * 41,
    "/contacts/verify?number=" + "1" * 25,
    "/contacts/verify?number=%00",
    "/contacts/verify?number=%F0%9F%93%9E",
    "/contacts/verify?number=010-0000-1002&extra=1",
])
def test_bad_numbers_are_a_clear_400_not_a_500(api, path):
    response = api.get(path)
    assert response.status == 400, response.text
    error = response.json["error"]
    assert error["code"] in {"validation_error", "invalid_number"} and error["message"]


def test_contacts_path_setting_rotates_the_directory_without_code_changes(aws, monkeypatch, tmp_path):
    from chalicelib import config
    book = yaml.safe_load(KB_CONTACTS.read_text(encoding="utf-8"))
    book["hotlines"][0]["hours"] = "春节期间 9:00–18:00"
    rotated = tmp_path / "contacts.yaml"
    rotated.write_text(yaml.safe_dump(book, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CONTACTS_PATH", str(rotated))
    config.reload()
    assert contacts.contacts_file() == rotated
    assert contacts.directory().hotlines[0].hours == "春节期间 9:00–18:00"
    assert contacts.verify_number("010-0000-1001").official is True
