"""``make package``: one CloudFormation (SAM) template + ``deployment.zip`` for stage ``prod`` in ``dist/``.

``chalice package`` produces the functions, the REST API with its authorizer and
the schedule. This merges in everything else the code needs, from the same
declarations ``infra/`` gives the local stack and the tests — DynamoDB tables
(indexes, TTL), SQS queues with dead-letter queues, SNS topics with their
queue subscriptions, the Cognito user pool, API Gateway error responses — and
replaces the roles' policies with hand-written least-privilege ones that name
each resource (no ``*`` action anywhere).

The zip also carries compiled bytecode for every module (``add_bytecode``): Lambda's code
directory is read-only, so without it every cold start compiles each imported ``.py`` again.
"""
from __future__ import annotations

import compileall
import fcntl
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = "prod"
# Every Lambda function's log group (a CloudFormation Fn::Sub string)
LAMBDA_LOG_GROUPS = ("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/repaydesk-"
                     + STAGE + "-*")
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024
# Code in chalicelib/ the functions never import; ``add_bytecode`` leaves it out of the zip. (The search-index
# build, chalicelib/search/build/, ships since the live index: the ``build_kb_index`` function runs it.)
BUILD_ONLY: tuple[str, ...] = ()
SHIPPED_JIEBA_DICT = "chalicelib/search/build/jieba_dict.txt"   # (build/support.py SHIPPED_DICT)


def logical_id(kind: str, name: str) -> str:
    suffix = re.sub(r"[^A-Za-z0-9]", " ", name.replace(f"repaydesk-{STAGE}-", "")).title().replace(" ", "")
    return f"{kind}{suffix}"


def prod_settings():
    """Settings as the prod stage sees them (names of tables, queues…, the stage's variables in
    ``.chalice/config.json``), without touching this process's."""
    from chalicelib import config
    saved = dict(os.environ)
    chalice_config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    try:
        os.environ.update(chalice_config.get("environment_variables", {}))
        os.environ.update(chalice_config["stages"][STAGE].get("environment_variables", {}))
        os.environ["STAGE"] = STAGE
        for key in ("AWS_ENDPOINT_URL", "USER_POOL_ID", "USER_POOL_CLIENT_ID"):
            os.environ.pop(key, None)
        return config.load()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def infra_resources(cfg) -> tuple[dict, dict]:
    """CloudFormation resources for every declared table, queue and topic; and name → logical id."""
    import infra
    resources, ids = {}, {}
    for spec in infra.tables(cfg):
        spec = dict(spec)
        ttl = spec.pop("ttl", None)
        lid = logical_id("Table", spec["TableName"])
        props = {**spec, "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                 "SSESpecification": {"SSEEnabled": True}}
        if ttl:
            props["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
        resources[lid] = {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                          "UpdateReplacePolicy": "Retain", "Properties": props}
        ids[spec["TableName"]] = lid
    for queue in infra.queues(cfg):
        lid = logical_id("Queue", queue["name"])
        props = {"QueueName": queue["name"], "VisibilityTimeout": queue.get("visibility_timeout", 30),
                 "SqsManagedSseEnabled": True}
        if queue.get("dlq"):
            dlq = lid + "Dlq"
            resources[dlq] = {"Type": "AWS::SQS::Queue", "Properties": {
                "QueueName": queue["name"] + "-dlq", "MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}}
            props["RedrivePolicy"] = {"deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
                                      "maxReceiveCount": queue.get("max_receive", 5)}
            ids[queue["name"] + "-dlq"] = dlq
        resources[lid] = {"Type": "AWS::SQS::Queue", "Properties": props}
        ids[queue["name"]] = lid
    for topic in infra.topics(cfg):
        lid = logical_id("Topic", topic["name"])
        resources[lid] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic["name"]}}
        ids[topic["name"]] = lid
        for queue_name in topic.get("queues", []):
            qid = ids[queue_name]
            resources[f"{lid}To{qid}"] = {"Type": "AWS::SNS::Subscription", "Properties": {
                "TopicArn": {"Ref": lid}, "Protocol": "sqs", "RawMessageDelivery": True,
                "Endpoint": {"Fn::GetAtt": [qid, "Arn"]}}}
            resources[f"{qid}PolicyFrom{lid}"] = {"Type": "AWS::SQS::QueuePolicy", "Properties": {
                "Queues": [{"Ref": qid}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
                    "Resource": {"Fn::GetAtt": [qid, "Arn"]},
                    "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": lid}}}}]}}}
    for bucket in infra.buckets(cfg):
        lid = logical_id("Bucket", bucket["name"])
        resources[lid] = bucket_resource(bucket)
        ids[bucket["name"]] = lid
        if bucket.get("notify_queue"):
            resources.update(bucket_notifications(bucket, lid, resources[lid], ids[bucket["notify_queue"]]))
    return resources, ids


def bucket_notifications(bucket: dict, lid: str, resource: dict, qid: str) -> dict:
    """New objects under ``notify_prefix`` announced on the queue; the queue accepts S3's messages from this bucket
    only (named by its ARN, built from the name: a reference to the bucket would be a circle)."""
    policy = f"{qid}PolicyFrom{lid}"
    resource["DependsOn"] = [policy]
    resource["Properties"]["NotificationConfiguration"] = {"QueueConfigurations": [{
        "Event": "s3:ObjectCreated:*", "Queue": _arn(qid),
        "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": bucket["notify_prefix"]}]}}}]}
    return {policy: {"Type": "AWS::SQS::QueuePolicy", "Properties": {
        "Queues": [{"Ref": qid}],
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": _arn(qid),
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:s3:::" + bucket["name"]
                                                                      + "-${AWS::AccountId}"}},
                          "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}}]}}}}


# Replies by e-mail (infra/mail.py): the function that reads the inbound queue, and what only it may do.
MAIL_READER = "chalicelib.routes.mail.receive_mail"


def receipt_rules(template: dict, cfg, ids: dict) -> None:
    """SES writes received mail into the bucket (its policy lets SES of this account put under the prefix);
    the rule set still has to be made active once per account (docs/escalation.md, "Replies by e-mail")."""
    import infra
    resources = template["Resources"]
    for rule in infra.receipt_rules(cfg):
        lid = ids[rule["bucket"]]
        statements = resources[f"{lid}Policy"]["Properties"]["PolicyDocument"]["Statement"]
        mails = {"Fn::Sub": "${" + lid + ".Arn}/" + rule["prefix"] + "*"}
        statements.append({"Sid": "SesWritesMail", "Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"},
                           "Action": "s3:PutObject", "Resource": mails,
                           "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}})
        resources["MailRuleSet"] = {"Type": "AWS::SES::ReceiptRuleSet", "Properties": {"RuleSetName": rule["name"]}}
        resources["MailReceiptRule"] = {"Type": "AWS::SES::ReceiptRule", "DependsOn": [f"{lid}Policy"], "Properties": {
            "RuleSetName": {"Ref": "MailRuleSet"},
            "Rule": {"Name": rule["name"], "Enabled": True, "ScanEnabled": True, "TlsPolicy": "Require",
                     "Recipients": rule["recipients"],
                     "Actions": [{"S3Action": {"BucketName": {"Ref": lid}, "ObjectKeyPrefix": rule["prefix"]}}]}}}
        for resource in resources.values():
            if resource["Type"] == "AWS::Serverless::Function" and resource["Properties"]["Handler"] == MAIL_READER:
                resource["Properties"]["Environment"]["Variables"]["INBOUND_MAIL_BUCKET"] = {"Ref": lid}
                role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
                policy = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]
                policy["Statement"].append({"Sid": "InboundMail", "Effect": "Allow", "Action": ["s3:GetObject"],
                                            "Resource": mails})
                if cfg.attachments_bucket in ids:
                    quarantine = {"Fn::Sub": "${" + ids[cfg.attachments_bucket] + ".Arn}/quarantine/*"}
                    policy["Statement"].append({"Sid": "QuarantinedMail", "Effect": "Allow",
                                                "Action": ["s3:PutObject"], "Resource": quarantine})


# A page on the deployed API's own origin uploads evidence straight to the bucket (presigned POST).
API_ORIGIN = {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}


def bucket_resource(bucket: dict) -> dict:
    """A private bucket: encrypted, public access blocked, TLS only, objects expire, CORS for the pages."""
    local = ("//127.0.0.1", "//localhost")
    origins = [o for o in bucket.get("cors_origins", []) if not any(h in o for h in local)] or [API_ORIGIN]
    return {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
        # Bucket names are global: the account id makes the declared name unique; the functions get it
        # as ATTACHMENTS_BUCKET (``merge``).
        "BucketName": {"Fn::Sub": bucket["name"] + "-${AWS::AccountId}"},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]},
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                                           "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        # The same rules infra/local.py gives moto, in CloudFormation's spelling.
        "LifecycleConfiguration": {"Rules": [lifecycle_rule(bucket)]},
        **({"CorsConfiguration": {"CorsRules": [{"AllowedOrigins": origins, "AllowedMethods": ["POST", "GET"],
                                                 "AllowedHeaders": ["*"], "ExposedHeaders": ["ETag", "Location"],
                                                 "MaxAge": 600}]}} if "cors_origins" in bucket else {})}}


def lifecycle_rule(bucket: dict) -> dict:
    """Objects expire after ``expire_days``; with ``expire_tag`` only those carrying the tag (superseded builds)."""
    if bucket.get("expire_tag"):
        return {"Id": "expire-tagged", "Status": "Enabled", "ExpirationInDays": bucket["expire_days"],
                "TagFilters": [dict(bucket["expire_tag"])]}
    return {"Id": "expire-evidence", "Status": "Enabled", "ExpirationInDays": bucket["expire_days"],
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}


def bucket_policies(ids: dict) -> dict:
    """Every bucket refuses plain-HTTP requests."""
    resources = {}
    for lid in ids.values():
        if lid.startswith("Bucket"):
            resources[f"{lid}Policy"] = {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": lid}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": [_arn(lid), {"Fn::Sub": "${" + lid + ".Arn}/*"}],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}
    return resources


def cognito_resources() -> dict:
    resources = {
        "UserPool": {"Type": "AWS::Cognito::UserPool", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                     "Properties": {
            "UserPoolName": f"repaydesk-{STAGE}-users", "AutoVerifiedAttributes": ["phone_number"],
            "UsernameConfiguration": {"CaseSensitive": False},
            # Two-factor sign-in (docs/front-doors.md): TOTP only (no SMS MFA); OPTIONAL in the pool — wallet users
            # may enrol — and required by the staff door for every staff account (chalicelib/web/session.py).
            "MfaConfiguration": "OPTIONAL", "EnabledMfas": ["SOFTWARE_TOKEN_MFA"],
            "Policies": {"PasswordPolicy": {"MinimumLength": 10, "RequireLowercase": True,
                                            "RequireNumbers": True, "RequireUppercase": True}},
            "Schema": [{"Name": "phone_number", "AttributeDataType": "String", "Mutable": True, "Required": True}]}},
        "UserPoolClient": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {
            "UserPoolId": {"Ref": "UserPool"}, "ClientName": "repaydesk-app", "GenerateSecret": False,
            # USER_PASSWORD_AUTH: the Lambda's sign-in pages call InitiateAuth (over TLS) with the password.
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "PreventUserExistenceErrors": "ENABLED", "AccessTokenValidity": 1, "IdTokenValidity": 1,
            "TokenValidityUnits": {"AccessToken": "hours", "IdToken": "hours"}}},
    }
    for role in ("support", "senior-support", "kb-editor"):
        resources[logical_id("UserPoolGroup", role)] = {"Type": "AWS::Cognito::UserPoolGroup", "Properties": {
            "UserPoolId": {"Ref": "UserPool"}, "GroupName": role}}
    return resources


def authorizer_policy(logs_only: dict) -> dict:
    """The authorizer writes logs and reads one thing: whether a staff account has its authenticator enrolled
    (``AdminGetUser``, chalicelib/routes/auth.py — a staff bearer token without a second factor is refused)."""
    return {**logs_only, "Statement": [*logs_only["Statement"], {
        "Sid": "StaffSecondFactor", "Effect": "Allow", "Action": ["cognito-idp:AdminGetUser"],
        "Resource": _arn("UserPool")}]}


def _arn(lid: str) -> dict:
    return {"Fn::GetAtt": [lid, "Arn"]}


def data_policy(cfg, ids: dict, kinds: dict[str, list[str]]) -> dict:
    tables = [ids[name] for name in ids if ids[name].startswith("Table")]
    queues = [lid for lid in ids.values() if lid.startswith("Queue")]
    topics = [lid for lid in ids.values() if lid.startswith("Topic")]
    statements = [
        {"Sid": "Logs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": {"Fn::Sub": LAMBDA_LOG_GROUPS}},
        {"Sid": "Tables", "Effect": "Allow",
         "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:ConditionCheckItem",
                    "dynamodb:BatchWriteItem"],  # analytics events, 25 at a time (chalicelib/adapters/events.py)
         "Resource": [_arn(t) for t in tables] + [{"Fn::Sub": "${" + t + ".Arn}/index/*"} for t in tables]},
        {"Sid": "Queues", "Effect": "Allow",
         "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueUrl", "sqs:GetQueueAttributes"],
         "Resource": [_arn(q) for q in queues]},
        {"Sid": "UserPhones", "Effect": "Allow", "Action": ["cognito-idp:AdminGetUser"], "Resource": _arn("UserPool")},
        # A lead's reset of a staff member's two-factor sign-in (chalicelib/web/staff_mfa.py): the member's groups,
        # their software-token MFA off, their refresh tokens revoked.
        {"Sid": "StaffMfaReset", "Effect": "Allow", "Resource": _arn("UserPool"),
         "Action": ["cognito-idp:AdminListGroupsForUser", "cognito-idp:AdminSetUserMFAPreference",
                    "cognito-idp:AdminUserGlobalSignOut"]},
        # SendEmail: the teams' mails; SendRawEmail: the users' (Reply-To, threading: chalicelib/adapters/outbox.py)
        {"Sid": "TeamEmail", "Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"],
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
                                 + cfg.sender_email.split("@")[-1]}},
        # SMS to a phone number has no resource ARN to name; the action is still only Publish.
        {"Sid": "SmsToPhones", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*",
         "Condition": {"Null": {"sns:Protocol": "true"}}},
    ]
    buckets = [ids[cfg.attachments_bucket]] if cfg.attachments_bucket in ids else []
    if buckets:  # presigned POST (upload) and GET (download) are signed with these rights; listing by prefix
        statements.append({"Sid": "AttachmentObjects", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                           "Resource": [{"Fn::Sub": "${" + b + ".Arn}/cases/*"} for b in buckets]})
        statements.append({"Sid": "AttachmentListing", "Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": [_arn(b) for b in buckets]})
        # a lead releasing a quarantined mail into its 工单 reads the kept mail (chalicelib/escalation/quarantine.py)
        statements.append({"Sid": "QuarantinedMailRead", "Effect": "Allow", "Action": ["s3:GetObject"],
                           "Resource": [{"Fn::Sub": "${" + b + ".Arn}/quarantine/*"} for b in buckets]})
    if topics:
        statements.append({"Sid": "TeamTopics", "Effect": "Allow", "Action": ["sns:Publish"],
                           "Resource": [{"Ref": t} for t in topics]})
    return {"Version": "2012-10-17", "Statement": statements}


def authorizer_functions(template: dict) -> set[str]:
    """Logical ids of the functions the REST API calls as its authorizers (whichever module defines them)."""
    api = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    uris = [json.dumps(scheme.get("x-amazon-apigateway-authorizer", {}).get("authorizerUri"))
            for scheme in (api.get("securityDefinitions") or {}).values()]
    return {lid for lid, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function" and any(f"${{{lid}.Arn}}" in uri for uri in uris)}


def merge(template: dict, cfg) -> dict:
    resources, ids = infra_resources(cfg)
    resources.update(cognito_resources())
    resources.update(bucket_policies(ids))
    template["Resources"].update(resources)
    logs_only = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": {"Fn::Sub": LAMBDA_LOG_GROUPS}}]}
    authorizers = authorizer_functions(template)
    for lid, resource in list(template["Resources"].items()):
        if resource["Type"] == "AWS::Serverless::Function":
            props = resource["Properties"]
            env = props.setdefault("Environment", {}).setdefault("Variables", {})
            env.update({"USER_POOL_ID": {"Ref": "UserPool"}, "USER_POOL_CLIENT_ID": {"Ref": "UserPoolClient"}})
            if cfg.attachments_bucket in ids:
                env["ATTACHMENTS_BUCKET"] = {"Ref": ids[cfg.attachments_bucket]}
            if cfg.kb_index_bucket in ids:
                env["KB_INDEX_BUCKET"] = {"Ref": ids[cfg.kb_index_bucket]}
            for event in (props.get("Events") or {}).values():
                if event["Type"] == "SQS":  # depend on the queue we create, not on its name
                    queue_name = event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[-1]
                    event["Properties"]["Queue"] = _arn(ids[queue_name])
                    event["Properties"]["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            role = props.get("Role", {}).get("Fn::GetAtt", [None])[0]
            if role:
                policy = authorizer_policy(logs_only) if lid in authorizers else data_policy(cfg, ids, {})
                template["Resources"][role]["Properties"]["Policies"] = [
                    {"PolicyName": f"{role}Policy", "PolicyDocument": policy}]
    learned_model_bucket(template, cfg)
    kb_index_grants(template, cfg, ids)
    receipt_rules(template, cfg, ids)
    template["Resources"].update(alarms(ids, [lid for lid, r in template["Resources"].items()
                                              if r["Type"] == "AWS::Serverless::Function"]))
    api = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    api["x-amazon-apigateway-gateway-responses"] = gateway_responses()
    template.setdefault("Outputs", {})["UserPoolId"] = {"Value": {"Ref": "UserPool"}}
    template["Outputs"]["UserPoolClientId"] = {"Value": {"Ref": "UserPoolClient"}}
    return template


def learned_model_bucket(template: dict, cfg) -> None:
    """The learned search model's bucket (``infra/search.py``: private, encrypted, TLS only,
    versioned) and, on its one key, ``s3:GetObject`` for the functions that read it and
    ``s3:PutObject`` for the one that rebuilds it."""
    from infra.search import learned_model

    spec = learned_model(cfg)
    if spec is None:
        return
    resources = template["Resources"]
    resources["KbLearnedBucket"] = {
        "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
            "BucketName": spec["bucket"],
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]},
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                               "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "VersioningConfiguration": {"Status": "Enabled"},  # a bad model rolls back to the previous version
            "LifecycleConfiguration": {"Rules": [{"Id": "old-models", "Status": "Enabled",
                                                  "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}}}
    resources["KbLearnedBucketPolicy"] = {"Type": "AWS::S3::BucketPolicy", "Properties": {
        "Bucket": {"Ref": "KbLearnedBucket"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [_arn("KbLearnedBucket"), {"Fn::Sub": "${KbLearnedBucket.Arn}/*"}],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}}
    key_arn = {"Fn::Sub": "${KbLearnedBucket.Arn}/" + spec["key"]}
    for resource in list(resources.values()):
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        handler, role = resource["Properties"]["Handler"], resource["Properties"]["Role"]["Fn::GetAtt"][0]
        actions = (["s3:GetObject"] if handler in spec["readers"] else []) + (
            ["s3:PutObject"] if handler in spec["writers"] else [])
        if actions:
            policy = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]
            policy["Statement"].append({"Sid": "KbLearnedModel", "Effect": "Allow", "Action": actions,
                                        "Resource": key_arn})


# The live index's archives (infra/search.py): every function that searches reads them; the build writes them
# and tags the one it replaces (for the bucket's lifecycle rule). Nothing else in the bucket, nobody else.
KB_INDEX_WRITERS = ("chalicelib.routes.knowledge_base.build_kb_index",)


def kb_index_grants(template: dict, cfg, ids: dict) -> None:
    if cfg.kb_index_bucket not in ids:
        return
    lid = ids[cfg.kb_index_bucket]
    archives = {"Fn::Sub": "${" + lid + ".Arn}/builds/*"}
    resources = template["Resources"]
    for resource in list(resources.values()):
        if resource["Type"] != "AWS::Serverless::Function" or "Role" not in resource["Properties"]:
            continue
        handler, role = resource["Properties"]["Handler"], resource["Properties"]["Role"]["Fn::GetAtt"][0]
        policies = resources[role]["Properties"].get("Policies") or []
        if not policies or not any(s.get("Sid") == "Tables" for s in policies[0]["PolicyDocument"]["Statement"]):
            continue   # the authorizer: logs only
        actions = ["s3:GetObject"] + (["s3:PutObject", "s3:PutObjectTagging"] if handler in KB_INDEX_WRITERS else [])
        policies[0]["PolicyDocument"]["Statement"].append(
            {"Sid": "KbIndexArchives", "Effect": "Allow", "Action": actions, "Resource": archives})


def alarms(ids: dict, functions: list[str]) -> dict:
    """The alarms the README's operations section explains."""
    def alarm(name, description, namespace, metric, dimensions, threshold, period=300, stat="Sum"):
        return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": f"repaydesk-{STAGE}-{name}", "AlarmDescription": description,
            "Namespace": namespace, "MetricName": metric, "Statistic": stat, "Period": period,
            "EvaluationPeriods": 1, "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching", "Dimensions": dimensions}}
    resources = {
        "AlarmOutboxDead": alarm("outbox-dead", "A notification could not be delivered after every retry.",
                                 "RepayDesk", "OutboxDead", [{"Name": "service", "Value": "repaydesk"}], 1),
        "AlarmApi5xx": alarm("api-5xx", "The API answered 5xx (dependency outage or a bug).", "AWS/ApiGateway",
                             "5XXError", [{"Name": "ApiName", "Value": "repaydesk"}], 5),
    }
    for name, lid in ids.items():
        if name.endswith("-dlq"):
            resources[f"Alarm{lid}"] = alarm(f"{name}-not-empty", f"Messages gave up and landed in {name}.",
                                             "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                             [{"Name": "QueueName", "Value": name}], 1, stat="Maximum")
    for lid in functions:
        resources[f"Alarm{lid}Errors"] = alarm(f"{lid}-errors", f"The {lid} function raised errors.", "AWS/Lambda",
                                               "Errors", [{"Name": "FunctionName", "Value": {"Ref": lid}}], 1)
    return resources


def gateway_responses() -> dict:
    """API Gateway's own errors (authorizer denials, unknown routes) in our JSON error shape."""
    def body(code: str, message: str) -> dict:
        return {"responseTemplates": {"application/json": json.dumps(
                    {"error": {"code": code, "message": message}}, ensure_ascii=False)},
                "responseParameters": {"gatewayresponse.header.Content-Type": "'application/json; charset=utf-8'"}}
    return {
        "UNAUTHORIZED": {"statusCode": 401, **body("unauthorized", "请先登录（登录已失效或凭证无效）。")},
        "ACCESS_DENIED": {"statusCode": 403, **body("forbidden", "您没有权限进行此操作。")},
        "MISSING_AUTHENTICATION_TOKEN": {"statusCode": 404, **body("not_found", "找不到您要的内容。")},
        "REQUEST_TOO_LARGE": {"statusCode": 413, **body("payload_too_large", "提交的内容过大。")},
        "THROTTLED": {"statusCode": 429, **body("rate_limited", "操作过于频繁，请稍后再试。")},
        "DEFAULT_4XX": body("bad_request", "请求有误，请检查后重试。"),
        "DEFAULT_5XX": body("service_unavailable", "服务繁忙，请稍后重试。"),
    }


def jieba_dictionary() -> Path:
    from chalicelib.search.build.support import jieba_dictionary as found
    return found()


def add_bytecode(zip_path: Path, runtime: str) -> int:
    """Put a ``__pycache__/*.pyc`` beside every ``.py`` in the zip (replacing any stray ones),
    leaving out the ``BUILD_ONLY`` code.

    Unchecked-hash pycs (PEP 552): valid whatever the files' mtimes become when Lambda unpacks
    the zip (chalice stamps every entry 1980-01-01), and never re-validated against the source,
    which cannot change in a deployed package. Compiled by this interpreter, so it must be the
    function's runtime version (the magic number differs between minor versions).
    """
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != here:
        sys.exit(f"bytecode for {runtime} needs that Python; this is {here}")
    with tempfile.TemporaryDirectory(prefix="repaydesk-pyc-") as tmp, zipfile.ZipFile(zip_path) as source:
        entries = [i for i in source.infolist() if "__pycache__/" not in i.filename
                   and not i.filename.endswith(".pyc") and not i.filename.startswith(BUILD_ONLY)]
        py_files = [i.filename for i in entries if i.filename.endswith(".py")]
        for name in py_files:
            source.extract(name, tmp)
        # Relative names inside the pyc (reproducible); the import system points code objects
        # at the real source path when it loads them anyway.
        ok = compileall.compile_dir(tmp, quiet=2, stripdir=tmp, workers=0,
                                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        compiled = sorted(Path(tmp).rglob("*.pyc"))
        if not ok:  # files that are not Python 3 (a vendored py2 helper) simply stay source-only
            print(f"  note: {len(py_files) - len(compiled)} .py file(s) in the zip do not compile")
        rebuilt = zip_path.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
            for info in entries:
                target.writestr(info, source.read(info))
            extra = [(pyc.relative_to(tmp).as_posix(), pyc) for pyc in compiled]
            extra.append((SHIPPED_JIEBA_DICT, jieba_dictionary()))   # the live index build's word frequencies
            for name, path in extra:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(info, path.read_bytes())
    rebuilt.replace(zip_path)
    return len(compiled)


def _templates_missing(zip_path: Path) -> list[str]:
    """Templates whose bytes the zip does not carry at ``templates/…`` (empty when it is whole)."""
    with zipfile.ZipFile(zip_path) as archive:
        names = set(archive.namelist())
        return [rel for rel, path in ((p.relative_to(ROOT).as_posix(), p)
                                      for p in sorted((ROOT / "templates").rglob("*")) if p.is_file())
                if rel not in names or archive.read(rel) != path.read_bytes()]


def _chalice_package(out: Path, env: dict) -> None:
    # Chalice ships app.py, chalicelib/ and whatever is in vendor/ (at the zip root): the
    # Jinja2 templates travel as vendor/templates, landing where the code looks for them.
    vendor_templates = ROOT / "vendor" / "templates"
    shutil.rmtree(vendor_templates, ignore_errors=True)
    shutil.copytree(ROOT / "templates", vendor_templates)
    try:
        subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", STAGE,
                        "--template-format", "json", str(out)], cwd=ROOT, env=env, check=True)
    finally:
        shutil.rmtree(vendor_templates, ignore_errors=True)
        if (ROOT / "vendor").exists() and not any((ROOT / "vendor").iterdir()):
            (ROOT / "vendor").rmdir()


def package(out: Path, env: dict) -> None:
    """``chalice package`` into ``out``, one build at a time, and never from a damaged cache.

    Chalice caches the dependencies + vendor/ part of the zip in .chalice/deployments/ under a hash of
    requirements.txt and vendor/'s bytes, written in place. A build interrupted (or raced by a second
    build removing vendor/) leaves a zip under the right name with files missing, and every later build
    reuses it: a deployment without its help-centre templates, found only when a page 500s. So builds
    take a lock, and a zip whose templates differ from templates/ is thrown away with the cache and
    built once more."""
    cache = ROOT / ".chalice" / "deployments"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for _attempt in (1, 2):
            _chalice_package(out, env)
            missing = _templates_missing(out / "deployment.zip")
            if not missing:
                return
            print(f"  the cached dependency zip lacks {len(missing)} template(s) ({missing[0]}…): rebuilding it")
            for stale in cache.glob("*.zip"):  # only a cache: the next build fills it again
                stale.unlink()
        sys.exit(f"deployment.zip still lacks templates after a clean rebuild: {missing}")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist"
    cfg = prod_settings()
    env = {**os.environ, "STAGE": STAGE, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or cfg.region}
    package(out, env)
    sam = out / "sam.json"
    template = merge(json.loads(sam.read_text()), cfg)
    (out / "template.json").write_text(json.dumps(template, indent=2, ensure_ascii=False))
    sam.unlink()
    runtimes = {r["Properties"]["Runtime"] for r in template["Resources"].values()
                if r["Type"] == "AWS::Serverless::Function"}
    if len(runtimes) != 1:
        sys.exit(f"expected one Lambda runtime, found {sorted(runtimes)}")
    compiled = add_bytecode(out / "deployment.zip", runtimes.pop())
    print(f"dist/deployment.zip: bytecode for {compiled} modules")
    size = (out / "deployment.zip").stat().st_size
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        unzipped = sum(i.file_size for i in archive.infolist())
    print(f"dist/template.json: {len(template['Resources'])} resources")
    print(f"dist/deployment.zip: {size / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped "
          f"(Lambda limits: 50 MB zipped direct upload, 250 MB unzipped)")
    if size > LAMBDA_ZIP_LIMIT:
        sys.exit("deployment.zip is over Lambda's 50 MB limit")


if __name__ == "__main__":
    main()
