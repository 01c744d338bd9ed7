"""Nobody reads what is not theirs, and the cloud resources are locked down.

On the local stack (moto + the real handlers): a second tenant tries the first tenant's ids on every HTTP route
of template.yaml, on the WebSocket handshake and in `subscribe`, and in `reference=`; presigned PUTs are checked
the way S3 checks them (`uptrack_service.local.sigv4`, which the local stack's guard in front of moto applies);
object keys are made by the server whatever the client sends. On template.yaml: the bucket is private and
TLS-only, and every function's IAM statements are scoped to the actions and the key prefixes it needs.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from uptrack_service.local.sigv4 import SignedRequest, problem
from uptrack_service.local.stack import LocalStack
from uptrack_service.local.template import load_template
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.corpus import Media
from tests.support.paths import REPO
from tests.support.stack_client import call, put, run_upload

TEMPLATE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
OBJECT_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
KEY_PREFIXES = ("media", "references", "work", "messages", "exports", "signatures")


# -- template.yaml ---------------------------------------------------------------------------------------------


def _functions() -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}


def _statements(properties: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in properties.get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(resource: Any) -> str:
    """A Resource entry as text: `!Sub` strings as written, `!GetAtt X.Arn` as `X.Arn`, `!Ref X` as `X`."""
    if isinstance(resource, str):
        return resource
    if "Fn::Sub" in resource:
        return str(resource["Fn::Sub"])
    if "Fn::GetAtt" in resource:
        return ".".join(resource["Fn::GetAtt"])
    if "Ref" in resource:
        return str(resource["Ref"])
    raise AssertionError(f"unexpected resource form {resource!r}")


def test_the_bucket_is_private_and_refuses_plain_http() -> None:
    bucket = RESOURCES["UploadsBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # no ACLs at all
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    policies = [r for r in RESOURCES.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    assert len(policies) == 1
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    tls = [s for s in statements if s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
    assert len(tls) == 1 and tls[0]["Effect"] == "Deny" and tls[0]["Action"] == "s3:*"
    assert {_text(r) for r in tls[0]["Resource"]} == {"UploadsBucket.Arn", "${UploadsBucket.Arn}/*"}
    assert not [s for s in statements if s["Effect"] == "Allow"]  # the policy only ever denies
    cors = bucket["CorsConfiguration"]["CorsRules"]
    assert all(set(rule["AllowedMethods"]) <= {"PUT", "GET"} for rule in cors)
    assert all(set(rule["AllowedHeaders"]) <= {"Content-Type", "Content-Length", "If-None-Match"} for rule in cors)


@pytest.mark.parametrize("function", sorted(_functions()))
def test_iam_statements_are_least_privilege(function: str) -> None:
    properties = _functions()[function]
    statements = _statements(properties)
    # no statement at all is allowed only with no Policies (SAM's basic role: its own logs and traces): a function
    # that reads nothing of the stack's, like WebPageFunction; a managed policy would hide what it may do
    assert statements or "Policies" not in properties, f"{function} has policies that are not explicit statements"
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = _as_list(statement["Action"])
        resources = [_text(r) for r in _as_list(statement["Resource"])]
        assert all(a != "*" and not a.endswith(":*") for a in actions), (function, actions)
        assert "*" not in resources, (function, statement)
        for action in actions:
            if action in OBJECT_ACTIONS:
                # object access is per key prefix, never the whole bucket
                assert all(
                    re.fullmatch(rf"\$\{{UploadsBucket\.Arn\}}/({'|'.join(KEY_PREFIXES)})/\*", r) for r in resources
                ), (
                    function,
                    statement,
                )
            elif action == "s3:ListBucket":
                # listing only under a prefix: a missing key then answers 403, which the adapters read as not found
                assert resources == ["UploadsBucket.Arn"], (function, statement)
                assert "s3:prefix" in str(statement.get("Condition", {})), (function, statement)
            elif action.startswith("dynamodb:"):
                # the sweeper's one filtered Scan of the uploads table is the only Scan (docs/performance.md prices it)
                scans = action == "dynamodb:Scan" and function == "SweepStuckUploadsFunction"
                assert scans or action not in ("dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:UpdateTable"), (
                    function,
                    action,
                )
                assert all(r.endswith("Table.Arn") for r in resources), (function, statement)
            elif action == "execute-api:ManageConnections":
                assert all(r.endswith("${WebSocketApi}/${Stage}/POST/@connections/*") for r in resources)
            elif action == "lambda:InvokeFunction":
                assert all(r.endswith("Function.Arn") for r in resources)


def test_internet_facing_functions_never_read_media_or_work_files() -> None:
    """The HTTP and WebSocket handlers see tokens and ids from the internet: they may write a media key (the
    presign) but read only stored messages, reference signatures and exports (each scoped to its owner in code), so
    a bug in them cannot leak anyone's raw video or keypoints."""
    facing = {
        name
        for name, properties in _functions().items()
        if any(e.get("Type") == "HttpApi" for e in properties.get("Events", {}).values())
    } | {"WsConnectFunction", "WsDisconnectFunction", "WsSubscribeFunction"}
    assert "CreateUploadFunction" in facing and "GetUploadFunction" in facing
    for name in facing:
        for statement in _statements(_functions()[name]):
            if "s3:GetObject" in _as_list(statement["Action"]):
                readable = tuple(
                    f"${{UploadsBucket.Arn}}/{prefix}/" for prefix in ("messages", "signatures", "exports")
                )
                assert all(_text(r).startswith(readable) for r in _as_list(statement["Resource"])), (name, statement)


def test_every_asynchronous_invocation_has_a_failure_path() -> None:
    """What no caller waits for must still end: every asynchronously invoked function (EventBridge rules, the
    schedule, the fetch) sends its failed events to AsyncFailureQueue, which ReportFailure reads to fail the upload
    and tell its subscriber; the rules' undeliverable events and unreportable records go to DeadLetterQueue."""
    queue = {"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]}
    asynchronous = {
        name
        for name, properties in _functions().items()
        if any(e["Type"] in ("EventBridgeRule", "Schedule") for e in properties.get("Events", {}).values())
    } | {"FetchMediaFunction"}
    assert {"ValidateUploadFunction", "ProcessReferenceFunction", "SweepStuckUploadsFunction"} <= asynchronous
    for name in asynchronous:
        on_failure = _functions()[name]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
        assert on_failure == {"Type": "SQS", "Destination": queue}, name
    reader = _functions()["ReportFailureFunction"]["Events"]["AsyncFailures"]
    assert reader["Type"] == "SQS" and reader["Properties"]["Queue"] == queue
    redrive = RESOURCES["AsyncFailureQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    rules = [
        event["Properties"]
        for properties in _functions().values()
        for event in properties.get("Events", {}).values()
        if event["Type"] == "EventBridgeRule"
    ]
    dead_letters = {"Arn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
    assert rules and all(rule["DeadLetterConfig"] == dead_letters and rule["RetryPolicy"] for rule in rules)


def test_every_checkov_suppression_says_why() -> None:
    """`make checkov` fails on any finding; what is suppressed is suppressed on its resource, with a reason."""
    skipped = 0
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
            assert len(skip.get("comment", "").split()) >= 8, (name, skip)  # a reason, not a shrug
            skipped += 1
    assert skipped >= 1


def test_the_http_access_log_never_records_tokens() -> None:
    """PoseTracker clients put `token=` in the query string: the access log names the route, never the path or query."""
    settings = RESOURCES["HttpApi"]["Properties"]["AccessLogSettings"]
    assert _text(settings["DestinationArn"]) == "HttpApiAccessLogs.Arn"
    fields = re.findall(r"\$context\.[A-Za-z.]+", settings["Format"])
    assert "$context.routeKey" in fields
    assert not [f for f in fields if f.split(".")[1] in ("path", "rawPath", "rawQueryString", "authorizer")]
    assert "Authorization" not in settings["Format"] and "header" not in settings["Format"].lower()


# -- the running stack ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # a low WebSocket frame limit, so that tenant A's keypoints_batch is delivered as a message_link
    with LocalStack(REPO, max_concurrency=2, environment={"WS_MESSAGE_LIMIT_BYTES": "4096"}) as running:
        yield running


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return Media(tmp_path_factory.mktemp("security")).small_clip().read_bytes()


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _created(stack: LocalStack, token: str, query: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return call("POST", f"{stack.http_url}/uploads?token={token}&{query}", body)


def test_presigned_put_binds_type_size_key_expiry_and_a_single_write(stack: LocalStack) -> None:
    token = stack.create_token()
    status, created = _created(stack, token, "exercise=squat", {"contentType": "video/mp4", "contentLength": 4321})
    assert status == 201
    url, headers = created["upload"]["url"], created["upload"]["headers"]
    query = query_of(url)
    now = datetime.now(UTC)

    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-SignedHeaders"].split(";") == ["content-length", "content-type", "host", "if-none-match"]
    assert int(query["X-Amz-Expires"]) == int(stack.environment["UPLOAD_URL_EXPIRY_SECONDS"]) == 300
    assert created["upload"]["expiresInS"] == 300
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert timedelta(0) < signed_at + timedelta(seconds=300) - now <= timedelta(seconds=300)
    assert urlsplit(url).path == f"/{stack.bucket}/media/{created['uploadId']}/source"
    assert headers == {"Content-Type": "video/mp4", "Content-Length": "4321", "If-None-Match": "*"}

    # What S3 answers, and the local stack's guard with it (it checks signatures as S3 does):
    def verdict(target: str, method: str, sent: dict[str, str], at: datetime) -> str | None:
        parts = urlsplit(target)
        lowered = {name.lower(): value for name, value in sent.items()} | {"host": parts.netloc}
        return problem(SignedRequest(method, parts.path, parts.query, lowered), stack.credentials, at)

    assert verdict(url, "PUT", headers, now) is None
    assert verdict(url, "PUT", headers | {"Content-Type": "text/html"}, now) == "signature does not match"
    assert verdict(url, "PUT", headers | {"Content-Length": "4322"}, now) == "signature does not match"
    assert verdict(url, "PUT", headers | {"Content-Length": str(600 * 2**20)}, now) == "signature does not match"
    assert verdict(url, "GET", headers, now) == "signature does not match"
    unconditional = {name: value for name, value in headers.items() if name != "If-None-Match"}
    assert verdict(url, "PUT", unconditional, now) == "signature does not match"  # the write-once condition
    elsewhere = url.replace(f"/media/{created['uploadId']}/source", f"/media/{uuid.uuid4()}/source")
    assert verdict(elsewhere, "PUT", headers, now) == "signature does not match"
    assert verdict(url, "PUT", headers, now + timedelta(seconds=301)) == "request has expired"
    with pytest.raises(urllib.error.HTTPError) as refused:
        put({"url": elsewhere, "headers": headers}, b"x" * 4321)
    assert refused.value.code == 403


@pytest.mark.parametrize(
    ("query", "body", "status", "code"),
    [
        ("exercise=squat", {"contentType": "video/mp4", "contentLength": 10, "key": "../../media/x"}, 400, None),
        ("exercise=squat", {"contentType": "video/mp4\r\nx-amz-acl: public-read", "contentLength": 10}, 400, None),
        ("exercise=squat", {"contentType": "application/x-sh", "contentLength": 10}, 400, "invalid_params"),
        ("exercise=squat", {"contentType": "video/mp4", "contentLength": -5}, 400, "invalid_params"),
        ("exercise=squat", {"contentType": "video/mp4", "contentLength": 600 * 2**20}, 413, "media_too_large"),
        ("source=image", {"contentType": "image/jpeg", "contentLength": 21 * 2**20}, 413, "media_too_large"),
        ("exercise=squat", {"contentType": "video/mp4"}, 400, "invalid_params"),
    ],
)
def test_bad_upload_declarations_are_refused_before_anything_is_stored(
    stack: LocalStack, query: str, body: dict[str, Any], status: int, code: str | None
) -> None:
    token = stack.create_token()
    got, answer = _created(stack, token, query, body)
    assert got == status, answer
    assert answer["type"] == "error" and (code is None or answer["code"] == code)


def _put_once(target: dict[str, Any], data: bytes) -> int:
    request = urllib.request.Request(target["url"], data=data, method="PUT", headers=target["headers"])
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_an_upload_key_is_written_once(stack: LocalStack) -> None:
    """A presigned PUT replayed within its expiry (after the analysis started) cannot replace the analysed media."""
    token = stack.create_token()
    status, created = _created(stack, token, "exercise=squat", {"contentType": "video/mp4", "contentLength": 5})
    assert status == 201
    assert [_put_once(created["upload"], b"first"), _put_once(created["upload"], b"again")] == [200, 412]
    stored = stack.client("s3").get_object(Bucket=stack.bucket, Key=f"media/{created['uploadId']}/source")
    assert stored["Body"].read() == b"first"


def test_object_keys_come_from_the_server_only(stack: LocalStack) -> None:
    token = stack.create_token()
    hostile = "key=..%2F..%2Fmessages%2Fvictim&objectKey=media%2Fvictim%2Fsource&Key=x&bucket=other&uploadId=mine"
    status, created = _created(stack, token, f"exercise=squat&{hostile}", {"contentType": "video/mp4; codecs=avc1",
                                                                           "contentLength": 10})  # fmt: skip
    assert status == 201
    assert re.fullmatch(UUID_RE, created["uploadId"])
    assert urlsplit(created["upload"]["url"]).path == f"/{stack.bucket}/media/{created['uploadId']}/source"
    assert created["upload"]["headers"]["Content-Type"] == "video/mp4"  # parameters dropped, type normalised
    status, reference = call("POST", f"{stack.http_url}/references?token={token}&{hostile}",
                             {"contentType": "video/mp4", "contentLength": 10})  # fmt: skip
    assert status == 201
    assert urlsplit(reference["upload"]["url"]).path == f"/{stack.bucket}/references/{reference['uploadId']}/source"


@pytest.fixture(scope="module")
def tenant_a(stack: LocalStack, clip: bytes) -> dict[str, Any]:
    """Tenant A: a finished upload (keypoints, so it has a message_link) and a reference reservation."""
    token = stack.create_token(owner="tenant-a@uptrack")
    outcome = run_upload(stack, token, "exercise=squat&keypoints=true", "video/mp4", clip)
    assert outcome.code == "ok"
    status, reference = call("POST", f"{stack.http_url}/references?token={token}",
                             {"contentType": "video/mp4", "contentLength": len(clip)})  # fmt: skip
    assert status == 201
    return {"token": token, "upload": outcome.upload_id, "reference": reference["uploadId"], "outcome": outcome}


def _id_routes(stack: LocalStack) -> list[str]:
    routes = {path for spec in stack.specs.values() for method, path in spec.http_routes if method == "GET"}
    return sorted(path for path in routes if "{" in path)  # the page's fixed paths name no id


def test_another_tenant_gets_not_found_on_every_route(stack: LocalStack, tenant_a: dict[str, Any]) -> None:
    stranger = stack.create_token(owner="tenant-b@uptrack")
    routes = _id_routes(stack)
    assert "/uploads/{uploadId}" in routes
    ids = {"uploadId": tenant_a["upload"], "referenceId": tenant_a["reference"]}
    tried = 0
    for route in routes:
        for name, own in ids.items():
            path = re.sub(r"\{\w+\}", own, route)
            unknown_id = str(uuid.uuid4())
            unknown = re.sub(r"\{\w+\}", unknown_id, route)
            owner_status, _ = call("GET", f"{stack.http_url}{path}", token=tenant_a["token"])
            stranger_status, stranger_body = call("GET", f"{stack.http_url}{path}", token=stranger)
            unknown_status, unknown_body = call("GET", f"{stack.http_url}{unknown}", token=stranger)
            query_status, _ = call("GET", f"{stack.http_url}{path}?token={stranger}")
            anonymous_status, anonymous = call("GET", f"{stack.http_url}{path}")
            tried += 1
            assert stranger_status == unknown_status == query_status == 404, (route, name, stranger_body)
            # an id of someone else reads exactly like an unknown one
            assert json.dumps(stranger_body).replace(own, "ID") == json.dumps(unknown_body).replace(unknown_id, "ID")
            assert stranger_body["code"] in ("upload_not_found", "reference_not_found")
            assert anonymous_status == 401 and anonymous["code"] == "missing_token"
            if route.startswith("/uploads") and name == "uploadId":
                assert owner_status == 200
    assert tried >= 2


@pytest.mark.parametrize("garbage", ["..%2F..%2Fetc%2Fpasswd", "%00", "x" * 2000, "%F0%9F%92%A5", "' OR 1=1 --"])
def test_garbage_ids_are_not_found_never_a_crash(stack: LocalStack, garbage: str) -> None:
    token = stack.create_token()
    for route in _id_routes(stack):
        path = re.sub(r"\{\w+\}", quote(garbage, safe="%"), route)
        status, body = call("GET", f"{stack.http_url}{path}", token=token)
        assert status == 404 and body["type"] == "error", (route, status, body)


def test_websocket_admits_only_the_owner(stack: LocalStack, tenant_a: dict[str, Any], clip: bytes) -> None:
    stranger = stack.create_token(owner="tenant-b@uptrack")
    base = f"{stack.websocket_url}?uploadId={tenant_a['upload']}"
    for url, status in ((f"{base}&token={stranger}", 403), (base, 401), (f"{base}&token=upt_{'x' * 43}", 403)):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=10)
        assert refused.value.response.status_code == status
    # on a connection of its own upload, asking for A's upload by id is refused, and nothing of A's arrives
    status, own = _created(stack, stranger, "exercise=squat", {"contentType": "video/mp4", "contentLength": 10})
    assert status == 201
    with connect(f"{own['websocketUrl']}&token={stranger}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "subscribe", "uploadId": tenant_a["upload"], "afterSeq": 0}))
        answer = json.loads(socket.recv(timeout=10))
        assert answer["type"] == "error" and answer["code"] == "upload_not_found"
        socket.send(json.dumps({"action": "subscribe", "afterSeq": 0}))  # its own (empty so far): nothing
        with pytest.raises(TimeoutError):
            socket.recv(timeout=1)
    messages = tenant_a["outcome"].messages
    assert all(m["uploadId"] == tenant_a["upload"] for m in messages)


def test_a_reference_id_of_another_tenant_is_not_found(
    stack: LocalStack, tenant_a: dict[str, Any], clip: bytes
) -> None:
    stranger = stack.create_token(owner="tenant-b@uptrack")
    outcome = run_upload(stack, stranger, f"reference={tenant_a['reference']}", "video/mp4", clip)
    assert outcome.code == "reference_not_found"


def test_message_links_name_only_their_upload_and_expire(stack: LocalStack, tenant_a: dict[str, Any]) -> None:
    """A message too big for a WebSocket frame travels as a presigned GET of its stored copy under the upload."""
    status, view = call("GET", f"{stack.http_url}/uploads/{tenant_a['upload']}", token=tenant_a["token"])
    links = [m for m in view["messages"] if m["type"] == "message_link"]
    assert status == 200 and links, "keypoints_batch should be stored as a link"
    expiry = int(stack.environment.get("LINK_EXPIRY_SECONDS", "3600"))
    for link in links:
        path = urlsplit(link["url"]).path
        assert re.fullmatch(rf"/{stack.bucket}/messages/{tenant_a['upload']}/large/\d{{8}}\.json", path)
        assert int(query_of(link["url"])["X-Amz-Expires"]) == link["expiresInS"] == expiry
        assert query_of(link["url"])["X-Amz-SignedHeaders"] == "host"
