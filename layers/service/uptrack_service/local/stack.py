"""`LocalStack`: template.yaml's application running on this machine (moto server + real handlers + gateways).

What differs from AWS, on purpose and documented in docs/deploy.md:

* moto cannot invoke a Lambda from an EventBridge rule, so the S3 rule (the template's own pattern) targets an
  SQS queue that a dispatcher thread drains into the validation function, as Lambda's poller would;
* every function runs in this process (see `lambdas.py`), with the union of the template's environment, so what
  one process sharing moto and every function would break (moto's non-atomic DynamoDB writes, CPython 3.11's
  thread-unsafe AST builder) is patched by `fidelity.py`;
* published messages are also copied to an SQS "tap" queue (rule `source: uptrack`) for tests to read back;
* moto, which accepts anyone, sits behind `motoserver.GuardedMoto`: loopback only, SigV4 with credentials minted
  per run, its `/moto-api/` the stack's own; tokens can come from a file read on every call (`tokens_file`).
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import threading
import time
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import boto3
import requests
from botocore.config import Config
from uptrack.contract.plans import DEFAULT_MONTHLY_QUOTAS, Plan
from uptrack.contract.tokens import JsonFileTokenStore, TokenStore, new_record

from uptrack_service import wiring
from uptrack_service.adapters.dynamodb_tables import create_table
from uptrack_service.adapters.dynamodb_tokens import DynamoDbTokenStore
from uptrack_service.adapters.dynamodb_uploads import DynamoDbUploadStore
from uptrack_service.local import fidelity, lambdas
from uptrack_service.local.asl import rendered
from uptrack_service.local.gateway import HttpApiServer, WebSocketGateway, _display
from uptrack_service.local.hosts import HostAllowList, is_loopback_address
from uptrack_service.local.janitor import Janitor
from uptrack_service.local.motoserver import (
    ADMIN_HEADER,
    GuardedMoto,
    MotoListener,
    moto_app,
    sign_step_functions_calls,
)
from uptrack_service.local.sigv4 import Credentials
from uptrack_service.local.template import (
    FunctionSpec,
    functions,
    global_environment,
    load_template,
    s3_rules,
    state_machine,
    tables,
)

REPO: Final = Path(__file__).resolve().parents[4]
ACCOUNT: Final = "123456789012"
LOCAL_SETTINGS: Final = {
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_DISABLED": "1",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
"""The local stack's own settings: no X-Ray/metrics, quieter logs. Media URLs follow the service's fetch policy
(no loopback, ports 80/443): a `videoSrc` may not reach this machine's own ports (moto, the gateways, anything
else listening); `allow_loopback_fetch` opens one port for a test's media server."""
log = logging.getLogger("uptrack.local")
STOP_WAIT_S: Final = 3.0
"""How long `stop` waits for the S3 event dispatchers (each polls its queue once a second)."""


class LocalStack:
    def __init__(
        self,
        repo: Path = REPO,
        *,
        region: str = "us-east-1",
        stage: str = "local",
        max_concurrency: int = 4,
        environment: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        http_port: int = 0,
        pages: Mapping[str, tuple[str, bytes]] | None = None,
        local_pages: Mapping[str, tuple[str, bytes]] | None = None,
        public_host: str | None = None,
        allowed_hosts: Iterable[str] = (),
        tokens_file: Path | None = None,
        events_tap: bool = True,
        sweep_every_s: float | None = None,
    ) -> None:
        """`host`/`http_port` place the HTTP API (0: a free port); `pages` are extra static GET paths it serves
        (path -> (content type, body)), for `uptrack serve`'s web page, and `local_pages` the versions only a
        client on this machine gets (the page's config with the development token). The gateways bind `host`;
        moto binds loopback (plus, when `host` is not loopback, an S3-only listener there for presigned URLs).
        URLs handed to clients name `public_host` (default: `host`, loopback for a wildcard); requests naming
        another host than these and `allowed_hosts` are refused. `tokens_file` (a `JsonFileTokenStore`, read on
        every request) replaces the tokens table, so `uptrack token create|revoke` act at once and usage persists.
        `events_tap` copies published messages to a queue for `published_events` (tests; nobody drains it
        otherwise); `sweep_every_s` runs the `Janitor` that often (a long-running `uptrack serve`)."""
        self.repo = repo
        self.host = host
        self.public_host = public_host or _display(host)
        self.http_port = http_port
        self.pages = dict(pages or {})
        self.local_pages = dict(local_pages or {})
        self.hosts = HostAllowList.of(self.public_host, *allowed_hosts)
        self.tokens_file = tokens_file
        self.events_tap = events_tap
        self.sweep_every_s = sweep_every_s
        self.region = region
        self.stage = stage
        self.max_concurrency = max_concurrency
        self.overrides = dict(environment or {})
        self.template = load_template(repo / "template.yaml")
        self.specs: dict[str, FunctionSpec] = functions(self.template, repo)
        self.credentials = Credentials.random()
        self._admin_key = secrets.token_urlsafe(24)
        self.suffix = secrets.token_hex(3)
        self.names: dict[str, str] = {}
        self.environment: dict[str, str] = {}
        self.endpoint = ""
        self.s3_endpoint = ""
        self.state_machine_arn = ""
        self.events_queue = ""
        self.s3_queues: dict[str, str] = {}
        self._role = ""
        self._saved_env: dict[str, str] | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._moto: list[MotoListener] = []
        self.gateway: WebSocketGateway | None = None
        self.http: HttpApiServer | None = None
        self.registry: lambdas.HandlerRegistry | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        log.disabled = False
        fidelity.install()
        self._start_moto()
        self._create_storage()
        self.gateway = WebSocketGateway(
            self.invoke,
            connect_function="WsConnectFunction",
            disconnect_function="WsDisconnectFunction",
            routes={"subscribe": "WsSubscribeFunction", "$default": "WsSubscribeFunction"},
            stage=self.stage,
            host=self.host,
            public_host=self.public_host,
            hosts=self.hosts,
            credentials=self.credentials,
        )
        self.gateway.start()
        self._create_functions()
        self._create_state_machine()
        for function, queue in self.s3_queues.items():
            self._spawn(f"s3-events-{function}", lambda f=function, q=queue: self._dispatch_s3_events(f, q))
        if self.sweep_every_s is not None:
            self._spawn("janitor", self._sweep)
        routes = {route: name for name, spec in self.specs.items() for route in spec.http_routes}
        self.http = HttpApiServer(
            routes,
            self.invoke,
            port=self.http_port,
            host=self.host,
            pages=self.pages,
            local_pages=self.local_pages,
            public_host=self.public_host,
            hosts=self.hosts,
        )
        self.http.start()
        return self

    def _start_moto(self) -> None:
        """moto on loopback behind the per-run credentials; S3 also on `host` when clients elsewhere need it."""
        app = moto_app()
        everything = MotoListener(GuardedMoto(app, self.credentials, self.hosts, self._admin_key), "127.0.0.1")
        self._moto = [everything]
        self.endpoint = f"http://127.0.0.1:{everything.port}"
        self.s3_endpoint = self.endpoint
        if not is_loopback_address(self.host):
            s3_only = GuardedMoto(app, self.credentials, self.hosts, self._admin_key, frozenset({"s3"}))
            self._moto.append(MotoListener(s3_only, self.host))
            self.s3_endpoint = f"http://{self.public_host}:{self._moto[-1].port}"
        for listener in self._moto:
            listener.start()
        sign_step_functions_calls(self.credentials)
        self._saved_env = dict(os.environ)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": self.credentials.access_key_id,
                "AWS_SECRET_ACCESS_KEY": self.credentials.secret_access_key,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ENDPOINT_URL_S3": self.s3_endpoint,
                "MOTO_PORT": str(everything.port),
            }
        )
        boto3.DEFAULT_SESSION = None  # it keeps the credentials it found first (another stack's, or none)
        self._moto_api("config", {"stepfunctions": {"execute_state_machine": True}})

    def _moto_api(self, action: str, body: dict[str, Any] | None = None) -> None:
        headers = {ADMIN_HEADER: self._admin_key}
        requests.post(f"{self.endpoint}/moto-api/{action}", json=body, headers=headers, timeout=10).raise_for_status()

    def stop(self) -> None:
        """Stop every listener and dispatcher within seconds; work still running in other threads is abandoned."""
        self._stop.set()
        log.disabled = True  # functions still running now fail as their bucket and tables go: abandoned, not news
        deadline = time.monotonic() + STOP_WAIT_S
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.http is not None:
            self.http.stop()
        if self.gateway is not None:
            self.gateway.stop()
        lambdas.uninstall()
        if self._moto:
            try:
                self._moto_api("reset")
            finally:
                for listener in self._moto:
                    listener.stop()
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
        boto3.DEFAULT_SESSION = None
        wiring.reset()

    def allow_loopback_fetch(self, port: int) -> None:
        """Let `videoSrc`/`imageSrc` reach one port of this machine (a test's media server), nothing else."""
        self.overrides |= {"FETCH_ALLOW_LOOPBACK": "true", "FETCH_ALLOWED_PORTS": str(port)}
        self._apply_environment()

    # -- clients --------------------------------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        config = Config(read_timeout=900, retries={"max_attempts": 1})
        endpoint = self.s3_endpoint if service == "s3" else self.endpoint
        return boto3.client(service, region_name=self.region, endpoint_url=endpoint, config=config)

    # -- resources ------------------------------------------------------------------------------------------------

    def _create_storage(self) -> None:
        self._create_bucket()
        self._create_tables()
        self._create_event_bus()
        self._create_s3_rules()

    def _create_bucket(self) -> None:
        self.names["UploadsBucket"] = bucket = f"uptrack-uploads-{self.suffix}"
        s3 = self.client("s3")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )

    def _create_tables(self) -> None:
        dynamodb = self.client("dynamodb")
        for logical_id, spec in tables(self.template).items():
            self.names[logical_id] = name = f"uptrack-{logical_id}-{self.suffix}"
            create_table(dynamodb, name, spec.key)

    def _create_event_bus(self) -> None:
        """The messages bus, with a tap queue that tests drain (`published_events`) when asked for."""
        self.names["MessagesBus"] = bus = f"uptrack-{self.suffix}"
        self.client("events").create_event_bus(Name=bus)
        if self.events_tap:
            self.events_queue = self._queue_rule(f"uptrack-events-tap-{self.suffix}", bus, {"source": ["uptrack"]})

    def _create_s3_rules(self) -> None:
        """Each S3 `Object Created` rule of the template, on this bucket, feeding a queue its dispatcher drains."""
        for function, rule in s3_rules(self.template).items():
            pattern = json.loads(json.dumps(rule))
            pattern["detail"]["bucket"]["name"] = [self.names["UploadsBucket"]]
            name = f"uptrack-s3-{function[:40]}-{self.suffix}"
            self.s3_queues[function] = self._queue_rule(name, "default", pattern)

    def _queue_rule(self, name: str, bus: str, pattern: dict[str, Any]) -> str:
        sqs = self.client("sqs")
        url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = self.client("events")
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
        return url

    def _resolve(self, value: Any, variable: str) -> str:
        """A template value as the local stack sees it (names of what it created, parameters' defaults)."""
        if isinstance(value, str | int | float):
            return str(value)
        if "Ref" in value:
            ref = str(value["Ref"])
            if ref in self.names:
                return self.names[ref]
            parameter = self.template.get("Parameters", {}).get(ref)
            if parameter is not None:
                return str(parameter.get("Default", ""))
            if ref in self.specs:
                return ref
            if ref == "AnalysisStateMachine":
                return self.state_machine_arn
        if "Fn::Sub" in value and self.gateway is not None:
            if variable == "WEBSOCKET_URL":
                return self.gateway.url
            if variable == "WEBSOCKET_MANAGEMENT_ENDPOINT":
                return self.gateway.management_endpoint
        raise ValueError(f"the local stack cannot resolve {variable}={value!r}")

    def _function_environment(self) -> dict[str, str]:
        env = {name: self._resolve(value, name) for name, value in global_environment(self.template).items()}
        for spec in self.specs.values():
            for name, value in spec.environment.items():
                if name != "STATE_MACHINE_ARN" or self.state_machine_arn:
                    env[name] = self._resolve(value, name)
        env |= LOCAL_SETTINGS | {"UPTRACK_MODELS_DIR": str(self.repo / "models")}
        if self.tokens_file is not None:
            env["TOKENS_FILE"] = str(self.tokens_file)
        return env | self.overrides

    def _apply_environment(self) -> None:
        from uptrack_service.observability import logger, metrics

        self.environment = self._function_environment()
        os.environ.update(self.environment)
        logger.setLevel(self.environment.get("POWERTOOLS_LOG_LEVEL", "INFO"))
        # made at import, before this environment: without a namespace, 100 values of one metric (many uploads at
        # once in this one process) make the next add_metric raise
        metrics.namespace = self.environment.get("POWERTOOLS_METRICS_NAMESPACE")
        wiring.reset()

    def _create_functions(self) -> None:
        iam = self.client("iam")
        role = iam.create_role(RoleName=f"uptrack-local-{secrets.token_hex(3)}", AssumeRolePolicyDocument="{}")
        self._role = str(role["Role"]["Arn"])
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr(
                "app.py", "def handler(event, context):\n    raise RuntimeError('run by the local stack')\n"
            )
        lam = self.client("lambda")
        for name in self.specs:
            lam.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=self._role,
                Handler="app.handler",
                Code={"ZipFile": archive.getvalue()},
                Timeout=900,
            )
        self.registry = lambdas.HandlerRegistry(self.specs)
        lambdas.install(self.registry)
        self._apply_environment()

    def _create_state_machine(self) -> None:
        definition_uri, substitutions = state_machine(self.template)
        # moto executes Distributed Map children only as STANDARD workflows; AWS runs the template's EXPRESS default.
        values: dict[str, str] = {"MaxConcurrency": str(self.max_concurrency), "MapExecutionType": "STANDARD"}
        for name, value in substitutions.items():
            if isinstance(value, dict) and "Fn::GetAtt" in value:
                function = str(value["Fn::GetAtt"][0])
                values[name] = f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{function}"
        definition = rendered(self.repo / definition_uri, self.repo / "template.yaml", values)
        sfn = self.client("stepfunctions")
        created = sfn.create_state_machine(name="uptrack-analysis", definition=definition, roleArn=self._role)
        self.state_machine_arn = str(created["stateMachineArn"])
        self._apply_environment()

    # -- running --------------------------------------------------------------------------------------------------

    def invoke(self, function: str, event: Mapping[str, Any]) -> dict[str, Any]:
        """Invoke a function through moto's Lambda (so the patched path is the one everything takes)."""
        response = self.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode("utf-8"))
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            return {"statusCode": 500, "body": json.dumps({"type": "error", "message": "internal error"})}
        return payload if isinstance(payload, dict) else {"result": payload}

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _sweep(self) -> None:
        assert self.sweep_every_s is not None
        janitor = Janitor(
            self.client("s3"), self.bucket, DynamoDbUploadStore(self.client("dynamodb"), self.names["UploadsTable"])
        )
        while not self._stop.wait(self.sweep_every_s):
            try:
                janitor.sweep()
            except Exception:  # the server is stopping, or moto hiccuped: the next sweep tries again
                log.debug("sweep failed", exc_info=True)

    def _dispatch_s3_events(self, function: str, queue: str) -> None:
        sqs = self.client("sqs")
        while not self._stop.is_set():
            try:
                batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception:  # the server is stopping
                if self._stop.is_set():
                    return
                raise
            for message in batch.get("Messages", []):
                self.invoke(function, json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    # -- helpers for tests and `uptrack serve` --------------------------------------------------------------------

    @property
    def http_url(self) -> str:
        assert self.http is not None
        return self.http.url

    @property
    def websocket_url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    @property
    def bucket(self) -> str:
        return self.names["UploadsBucket"]

    def tokens(self) -> TokenStore:
        """Where the functions look tokens up: the tokens file when given, else the tokens table."""
        if self.tokens_file is not None:
            return JsonFileTokenStore(self.tokens_file)
        return DynamoDbTokenStore(self.client("dynamodb"), self.names["TokensTable"])

    def create_token(self, plan: Plan = Plan.DEVELOPER, owner: str = "local@uptrack") -> str:
        raw, record = new_record(owner, plan, DEFAULT_MONTHLY_QUOTAS[plan], datetime.now(UTC))
        self.tokens().put(record)
        return raw

    def execution(self, upload_id: str) -> dict[str, Any]:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{upload_id}"
        described: dict[str, Any] = self.client("stepfunctions").describe_execution(executionArn=arn)
        return described

    def wait_for_execution(self, upload_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                described = self.execution(upload_id)
                if described["status"] != "RUNNING":
                    return described
            except Exception:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {upload_id} still running after {timeout_s} s")
            time.sleep(0.2)

    def executions(self) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = self.client("stepfunctions").list_executions(
            stateMachineArn=self.state_machine_arn
        )["executions"]
        return listed

    def published_events(self, wait_s: float = 1.0) -> list[dict[str, Any]]:
        """Drain the EventBridge tap queue."""
        sqs = self.client("sqs")
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait_s
        while True:
            batch = sqs.receive_message(QueueUrl=self.events_queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = batch.get("Messages", [])
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.events_queue, ReceiptHandle=message["ReceiptHandle"])
            if not messages:
                if time.monotonic() > deadline:
                    return found
                time.sleep(0.1)
