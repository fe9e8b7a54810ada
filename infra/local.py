"""Create every declared resource (and the Cognito pool) in moto: local stack and tests."""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

import infra
from chalicelib.adapters import aws
from chalicelib.kernel.actor import MFA_REQUIRED_ROLES

ROLES = ("support", "senior-support", "kb-editor")
# Two-factor sign-in (docs/front-doors.md "Two-factor sign-in for staff"): OPTIONAL in the pool, required by the
# staff door for these roles (chalicelib/web/session.py ``needs_mfa``), as in devtools/package.py's template.
MFA_ROLES = tuple(sorted(MFA_REQUIRED_ROLES))
MFA_CONFIGURATION = "OPTIONAL"
APP_CLIENT_NAME = "repaydesk-app"


@dataclass(frozen=True)
class UserPool:
    pool_id: str
    client_id: str


def create_all(cfg) -> UserPool:
    create_tables(cfg)
    create_queues_and_topics(cfg)
    create_buckets(cfg)
    aws.client("ses").verify_email_identity(EmailAddress=cfg.sender_email)
    return create_user_pool(cfg)


def create_tables(cfg) -> None:
    ddb = aws.client("dynamodb")
    existing = set(ddb.list_tables()["TableNames"])
    for spec in infra.tables(cfg):
        spec = dict(spec)
        ttl = spec.pop("ttl", None)
        if spec["TableName"] in existing:
            continue
        ddb.create_table(**spec)
        if ttl:
            ddb.update_time_to_live(TableName=spec["TableName"],
                                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})


def create_queues_and_topics(cfg) -> None:
    sqs, sns = aws.client("sqs"), aws.client("sns")
    arns = {}
    for queue in infra.queues(cfg):
        attributes = {"VisibilityTimeout": str(queue.get("visibility_timeout", 30))}
        if queue.get("dlq"):
            dlq_url = sqs.create_queue(QueueName=queue["name"] + "-dlq")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.get("max_receive", 5))})
        url = sqs.create_queue(QueueName=queue["name"], Attributes=attributes)["QueueUrl"]
        arns[queue["name"]] = sqs.get_queue_attributes(QueueUrl=url,
                                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for topic in infra.topics(cfg):
        topic_arn = sns.create_topic(Name=topic["name"])["TopicArn"]
        for queue_name in topic.get("queues", []):
            sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arns[queue_name],
                          Attributes={"RawMessageDelivery": "true"})


def bucket_cors(origins: list[str]) -> dict:
    """The CORS rules a page needs to POST its presigned form to the bucket (and read the answer)."""
    return {"CORSRules": [{"AllowedOrigins": list(origins), "AllowedMethods": ["POST", "GET"],
                           "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "Location"], "MaxAgeSeconds": 600}]}


def lifecycle(expire_days: int, tag: dict | None = None) -> dict:
    if tag:  # only objects carrying the tag expire (superseded index builds)
        return {"Rules": [{"ID": "expire-tagged", "Status": "Enabled", "Filter": {"Tag": dict(tag)},
                           "Expiration": {"Days": expire_days}}]}   # (S3 refuses multipart aborts with tags)
    return {"Rules": [{"ID": "expire-evidence", "Status": "Enabled", "Filter": {"Prefix": ""},
                       "Expiration": {"Days": expire_days},
                       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}


def create_buckets(cfg) -> None:
    s3 = aws.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in infra.buckets(cfg):
        if bucket["name"] not in existing:
            s3.create_bucket(Bucket=bucket["name"],
                             CreateBucketConfiguration={"LocationConstraint": cfg.region})
        s3.put_public_access_block(Bucket=bucket["name"], PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_bucket_encryption(Bucket=bucket["name"], ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        s3.put_bucket_lifecycle_configuration(Bucket=bucket["name"],
                                              LifecycleConfiguration=lifecycle(bucket["expire_days"],
                                                                                 bucket.get("expire_tag")))
        if bucket.get("cors_origins"):
            s3.put_bucket_cors(Bucket=bucket["name"], CORSConfiguration=bucket_cors(bucket["cors_origins"]))


def create_user_pool(cfg) -> UserPool:
    idp = aws.client("cognito-idp")
    name = f"repaydesk-{cfg.stage}-users"
    pools = [p for p in idp.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == name]
    if pools:
        pool_id = pools[0]["Id"]
    else:
        pool_id = idp.create_user_pool(
            PoolName=name,
            AutoVerifiedAttributes=["phone_number"],
            Schema=[{"Name": "phone_number", "AttributeDataType": "String", "Mutable": True}],
        )["UserPool"]["Id"]
    clients = [c for c in idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
               if c["ClientName"] == APP_CLIENT_NAME]
    if clients:
        client_id = clients[0]["ClientId"]
    else:
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName=APP_CLIENT_NAME, GenerateSecret=False,
            # USER_PASSWORD_AUTH: the sign-in pages (/agent/login, /help/login) call InitiateAuth, as on AWS.
            ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                               "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    if not pools:
        idp.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration=MFA_CONFIGURATION,
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    existing_groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]}
    for role in ROLES:
        if role not in existing_groups:
            idp.create_group(UserPoolId=pool_id, GroupName=role)
    return UserPool(pool_id=pool_id, client_id=client_id)


def find_user_pool(cfg) -> UserPool:
    """The pool ``create_all`` made (``make token`` runs in another process)."""
    return create_user_pool(cfg)


# The demo users' password: DEMO_PASSWORD from the environment (make serve prints it), else this default.
DEFAULT_DEMO_PASSWORD = "Demo-passw0rd!"
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def ensure_user(pool: UserPool, username: str, *, role: str | None = None,
                phone: str = "+8613800138000", email: str | None = None, mfa: bool | None = None) -> str:
    """Create the user if needed (phone and e-mail kept in Cognito, never in our tables) and return an ID token.
    ``email``: a verified address (replies by e-mail are accepted from it only). ``mfa``: enrol an authenticator
    (moto's one fixed secret, ``totp_code``) — by default for the staff roles, whose door requires it; the token
    returned is then issued after the code, as the sign-in page gets it."""
    idp = aws.client("cognito-idp")
    verified_email = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}] if email else []
    try:
        idp.admin_get_user(UserPoolId=pool.pool_id, Username=username)
        if verified_email:
            idp.admin_update_user_attributes(UserPoolId=pool.pool_id, Username=username,
                                             UserAttributes=verified_email)
    except idp.exceptions.UserNotFoundException:
        idp.admin_create_user(
            UserPoolId=pool.pool_id, Username=username, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "phone_number", "Value": phone},
                            {"Name": "phone_number_verified", "Value": "true"}, *verified_email],
        )
        idp.admin_set_user_password(UserPoolId=pool.pool_id, Username=username,
                                    Password=DEMO_PASSWORD, Permanent=True)
    if role:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
        idp.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=username, GroupName=role)
    if mfa is None:
        mfa = role in MFA_ROLES
    result = idp.admin_initiate_auth(
        UserPoolId=pool.pool_id, ClientId=pool.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": DEMO_PASSWORD},
    )
    if mfa and "AuthenticationResult" in result:   # not enrolled yet: enrol with the access token
        access = result["AuthenticationResult"]["AccessToken"]
        secret = idp.associate_software_token(AccessToken=access)["SecretCode"]
        idp.verify_software_token(AccessToken=access, UserCode=totp_code(secret))
        idp.set_user_mfa_preference(AccessToken=access,
                                    SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
        result = idp.admin_initiate_auth(
            UserPoolId=pool.pool_id, ClientId=pool.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": DEMO_PASSWORD})
    if result.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
        result = idp.admin_respond_to_auth_challenge(
            UserPoolId=pool.pool_id, ClientId=pool.client_id, ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=result["Session"],
            ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": totp_code(MOTO_TOTP_SECRET)})
    return result["AuthenticationResult"]["IdToken"]


# moto (5.2.5) gives every user this one authenticator secret and, unless MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP is
# set, accepts any 6 digits (docs/front-doors.md "What moto does and does not check"). The demo and test codes are
# still computed from it, on the application's clock.
MOTO_TOTP_SECRET = "asdfasdfasdf"


def totp_code(secret: str = MOTO_TOTP_SECRET) -> str:
    """The 6-digit code an authenticator shows for ``secret`` (base32) at the application's clock's now — never the
    wall clock in tests (their clock is frozen or runs from a fixed start). pyotp (a dev dependency) for a real
    secret; moto's 60-bit one is shorter than pyotp accepts (112 bits), so that one goes through cryptography's
    TOTP with the key-length check off, exactly as moto checks it."""
    from chalicelib.kernel import clock
    now = clock.epoch()
    padded = secret.upper() + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded)
    if len(key) >= 14:
        import pyotp
        return pyotp.TOTP(secret.upper()).at(now)
    from cryptography.hazmat.primitives.hashes import SHA1
    from cryptography.hazmat.primitives.twofactor.totp import TOTP
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(now).decode()
