"""`make package`'s output: one lint-clean template, least-privilege roles, a zip Lambda accepts."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# One build per run: the module fixture packages through .chalice/deployments/, Chalice's cache; `make test`
# runs with --dist loadfile, so this file's tests share one worker (and devtools.package takes a lock).


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "devtools.package", str(out)], cwd=ROOT, check=True,
                   capture_output=True, text=True)
    return out


def _actions(statement):
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_template_passes_cfn_lint(packaged):
    result = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(packaged / "template.json")],
                            capture_output=True, text=True)
    errors = [line for line in result.stdout.splitlines() if line.startswith("E")]
    assert errors == [] and not result.returncode & 2, result.stdout  # exit bit 2 = errors; 4/8 = warnings/info


def test_template_holds_every_declared_resource_and_no_wildcard_actions(packaged):
    import infra
    from devtools.package import prod_settings
    cfg = prod_settings()
    template = json.loads((packaged / "template.json").read_text())
    resources = template["Resources"]
    table_names = {r["Properties"]["TableName"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"}
    assert table_names == {t["TableName"] for t in infra.tables(cfg)}
    queue_names = {r["Properties"]["QueueName"] for r in resources.values() if r["Type"] == "AWS::SQS::Queue"}
    assert {q["name"] for q in infra.queues(cfg)} <= queue_names
    assert any(r["Type"] == "AWS::Cognito::UserPool" for r in resources.values())
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in resource["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                assert all("*" not in action for action in _actions(statement)), statement
                if statement["Resource"] == "*":  # only SMS publishing has no ARN to name
                    assert _actions(statement) == ["sns:Publish"]


def test_the_learned_search_model_has_a_private_bucket_and_only_its_readers_and_writer_reach_its_key(packaged):
    from devtools.package import prod_settings
    from infra.search import learned_model
    spec = learned_model(prod_settings())
    assert spec is not None, "prod sets KB_LEARNED_URI (.chalice/config.json)"
    resources = json.loads((packaged / "template.json").read_text())["Resources"]
    bucket = resources["KbLearnedBucket"]
    assert bucket["Type"] == "AWS::S3::Bucket" and bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["BucketName"] == spec["bucket"]
    assert all(props["PublicAccessBlockConfiguration"][k] for k in (
        "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    deny = resources["KbLearnedBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    key_arn = {"Fn::Sub": "${KbLearnedBucket.Arn}/" + spec["key"]}
    granted = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        role = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                if "KbLearnedBucket" in json.dumps(statement["Resource"]):   # (the attachments bucket has its own)
                    assert statement["Resource"] == key_arn, statement  # that one key, nothing else in the bucket
                    granted.setdefault(resource["Properties"]["Handler"], []).extend(_actions(statement))
    assert granted == {"app.app": ["s3:GetObject"], "chalicelib.routes.knowledge_base.relearn_kb": ["s3:PutObject"]}
    schedule = next(r for r in resources.values() if r["Type"] == "AWS::Serverless::Function"
                    and r["Properties"]["Handler"] == "chalicelib.routes.knowledge_base.relearn_kb")
    assert [e["Type"] for e in schedule["Properties"]["Events"].values()] == ["Schedule"]
    assert any(r["Type"] == "AWS::Serverless::Function" and r["Properties"]["Handler"] == "app.app"
               and r["Properties"]["Environment"]["Variables"]["KB_LEARNED_URI"] == f"s3://{spec['bucket']}/{spec['key']}"
               for r in resources.values())


def test_the_live_index_has_its_queue_bucket_and_build_function_with_only_the_rights_it_needs(packaged):
    from devtools.package import prod_settings
    cfg = prod_settings()
    resources = json.loads((packaged / "template.json").read_text())["Resources"]
    queue = next(r for r in resources.values() if r["Type"] == "AWS::SQS::Queue"
                 and r["Properties"]["QueueName"] == cfg.kb_build_queue)
    assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3
    assert queue["Properties"]["VisibilityTimeout"] >= 300
    bucket = next(r for r in resources.values() if r["Type"] == "AWS::S3::Bucket"
                  and cfg.kb_index_bucket in json.dumps(r["Properties"]["BucketName"]))
    rule = bucket["Properties"]["LifecycleConfiguration"]["Rules"][0]
    assert rule["TagFilters"] == [{"Key": "superseded", "Value": "true"}]   # the live archive never expires
    assert bucket["Properties"]["BucketEncryption"] and "CorsConfiguration" not in bucket["Properties"]
    worker = next(r for r in resources.values() if r["Type"] == "AWS::Serverless::Function"
                  and r["Properties"]["Handler"] == "chalicelib.routes.knowledge_base.build_kb_index")
    assert worker["Properties"]["Timeout"] == 300
    assert [e["Type"] for e in worker["Properties"]["Events"].values()] == ["SQS"]
    granted = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        env = resource["Properties"]["Environment"]["Variables"]
        assert "KB_INDEX_BUCKET" in env and env["KB_LIVE_REFRESH_SECONDS"] == "5"
        role = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]
        for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            if statement.get("Sid") == "KbIndexArchives":
                assert statement["Resource"]["Fn::Sub"].endswith("/builds/*")
                granted[resource["Properties"]["Handler"]] = sorted(_actions(statement))
    assert granted["app.app"] == ["s3:GetObject"]
    assert granted["chalicelib.routes.knowledge_base.build_kb_index"] == [
        "s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"]


def test_replies_by_email_have_their_receipt_rule_bucket_queue_and_only_the_mail_function_reads_them(packaged):
    from devtools.package import prod_settings
    cfg = prod_settings()
    resources = json.loads((packaged / "template.json").read_text())["Resources"]
    [rule] = [r for r in resources.values() if r["Type"] == "AWS::SES::ReceiptRule"]
    assert rule["Properties"]["Rule"]["Recipients"] == [cfg.mail_domain]
    assert rule["Properties"]["Rule"]["ScanEnabled"] and rule["Properties"]["Rule"]["TlsPolicy"] == "Require"
    [action] = rule["Properties"]["Rule"]["Actions"]
    bucket = resources[action["S3Action"]["BucketName"]["Ref"]]
    [notified] = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert resources[notified["Queue"]["Fn::GetAtt"][0]]["Properties"]["QueueName"] == cfg.inbound_mail_queue
    granted = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        role = resources[resource["Properties"]["Role"]["Fn::GetAtt"][0]]
        for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            if statement.get("Sid") in ("InboundMail", "QuarantinedMail"):
                granted.setdefault(resource["Properties"]["Handler"], []).extend(_actions(statement))
    assert granted == {"chalicelib.routes.mail.receive_mail": ["s3:GetObject", "s3:PutObject"]}
    statements = [st for r in resources.values() if r["Type"] == "AWS::IAM::Role"
                  for st in r["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]]
    # the users' mails go raw (Reply-To, threading); a lead's release reads the kept mail, nothing more
    assert any("ses:SendRawEmail" in _actions(st) for st in statements)
    assert {a for st in statements if st.get("Sid") == "QuarantinedMailRead" for a in _actions(st)} == {"s3:GetObject"}


def test_deployment_zip_is_well_under_lambda_limit(packaged):
    size = (packaged / "deployment.zip").stat().st_size
    assert size < 45 * 1024 * 1024, f"{size / 1e6:.1f} MB"


def test_zip_carries_what_the_code_opens_at_run_time(packaged):
    import zipfile
    names = set(zipfile.ZipFile(packaged / "deployment.zip").namelist())
    assert "app.py" in names
    assert any(n.startswith("templates/help/") for n in names), "help-centre templates"
    assert any(n.startswith("templates/notifications/") for n in names), "SMS/e-mail templates"
    assert any(n.startswith("chalicelib/search/index/") for n in names), "the built search index"
    assert "chalicelib/search/index/contacts.yaml" in names
    assert "chalicelib/search/index/assistant_model.json" in names   # the 智能客服's model, trained at make index
    assert not any(n.startswith(("tests/", "devtools/", "kb/", "benchmarks/")) for n in names)
    # the index build ships for the live index's build function (build_kb_index), with jieba's dictionary only
    assert "chalicelib/search/build/__init__.py" in names and "chalicelib/search/build/jieba_dict.txt" in names
    assert "chalicelib/search/index.py" in names and "chalicelib/search/postings.py" in names


def test_build_time_packages_stay_out_of_the_zip_and_runtime(packaged):
    import zipfile
    names = zipfile.ZipFile(packaged / "deployment.zip").namelist()
    assert not any(n.startswith(("jieba/", "boto3/", "botocore/")) for n in names)
    assert any(n.startswith("pypinyin/") for n in names)   # the live index's build function needs it
    # …and the deployed code answers a search without them
    code = ("import sys; sys.modules['jieba'] = None; sys.modules['pypinyin'] = None\n"
            "from chalicelib.search import service\n"
            "print(service.search('还款失败了怎么办').results[0].slug)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={**__import__("os").environ, "AWS_DEFAULT_REGION": "ap-southeast-1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "repayment-failed"   # (after the metric line)


def test_every_module_ships_bytecode_that_lambda_uses_without_recompiling(packaged, tmp_path):
    """Lambda's code directory is read-only: without .pyc in the zip each cold start compiles every
    imported module again. The unpacked zip, with every source that has bytecode made unusable,
    still imports the app and answers a search — nothing is compiled from source."""
    import importlib.util
    import zipfile
    with zipfile.ZipFile(packaged / "deployment.zip") as archive:
        names = set(archive.namelist())
        sources = [n for n in names if n.endswith(".py")]
        tag = sys.implementation.cache_tag
        for name in sources:
            folder, _, file = name.rpartition("/")
            pyc = f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.{tag}.pyc"
            assert pyc in names, f"no bytecode for {name}"
            header = archive.read(pyc)[:8]
            assert header[:4] == importlib.util.MAGIC_NUMBER
            assert int.from_bytes(header[4:8], "little") == 0b01, f"{pyc}: not an unchecked-hash pyc"
        archive.extractall(tmp_path)
    for name in sources:
        (tmp_path / name).write_text("raise RuntimeError('compiled from source')\n")
    code = ("import app\nfrom chalicelib.search import service\n"
            "print(service.search('还款失败了怎么办').results[0].slug)")
    # -S: only the zip's own packages (and the standard library), as in Lambda
    result = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={**__import__("os").environ, "AWS_DEFAULT_REGION": "ap-southeast-1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "repayment-failed"


def test_a_damaged_build_cache_is_rebuilt_not_shipped(packaged, tmp_path):
    # A build cut short (or raced by another removing vendor/) leaves Chalice's cached zip under the right
    # name without the templates; shipping it would 500 every help page. The next build must notice.
    import zipfile
    cache = ROOT / ".chalice" / "deployments"
    cached = sorted(cache.glob("*.zip"))
    assert cached, "the fixture's build left its cache"
    for path in cached:
        damaged = path.with_suffix(".damaged")
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                if not info.filename.startswith("templates/help/"):
                    target.writestr(info, source.read(info))
        damaged.replace(path)
    result = subprocess.run([sys.executable, "-m", "devtools.package", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rebuilding" in result.stdout
    names = zipfile.ZipFile(tmp_path / "deployment.zip").namelist()
    assert "templates/help/search.html" in names and "templates/notifications/user_sms.txt.j2" in names
