"""The vetting flow's test backend: moto in process, with its Step Functions interpreter switched on.

- **Step Functions.** The state machine is the module's own `vetting.asl.json`, rendered as
  Terraform's templatefile would, and executed by moto's ASL interpreter
  (`config={"stepfunctions": {"execute_state_machine": True}}`).
- **Lambda.** moto runs a function's code only in Docker, which this machine has not: each
  function's handler (`pipeline.vetting.handlers.<step>`) runs in process instead, with the
  function's environment variables, and an exception comes back as Lambda reports it
  (FunctionError, `{"errorType", "errorMessage"}`), so the ASL's Retry and Catch see the real error names.
  moto is in process (not tests/moto_server.py) for this reason: a server could not call back into the test.
- **DynamoDB, SSM, S3, Security Hub** are moto's.
- **CodeArtifact** is not in moto: a real botocore client with a Stubber, answering with the
  response shapes of the AWS CLI reference (tests/fixtures/vetting/codeartifact_responses.json).
  The Stubber validates every request against botocore's CodeArtifact model and checks the
  expected parameters.
- **The repository endpoint** is a loopback HTTP server that answers as CodeArtifact's PyPI
  (PEP 503 simple index) and npm (package document, tarball) endpoints do, and checks the token;
  written for these tests.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import os
import re
import tarfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.awslambda.models import LambdaFunction

from tests.conftest import FIXTURES, ROOT
from tests.loopback import serving

MODULE = ROOT / "terraform" / "modules" / "package-vetting"
ASL = MODULE / "vetting.asl.json"
REGION = "us-east-1"
ACCOUNT = "123456789012"
DOMAIN = "tollgate"
TOKEN = "test-token-not-a-secret"  # noqa: S105 - the loopback endpoint checks it
TABLE = "tollgate-vetting-status"
STEPS = ("check", "block", "fetch", "await", "copy", "fail")
HANDLERS = {step: f"pipeline.vetting.handlers.{'await_intake' if step == 'await' else step}" for step in STEPS}
REPOSITORIES = {"pypi": {"intake": "pypi-intake", "vetted": "pypi-vetted"},
                "npm": {"intake": "npm-intake", "vetted": "npm-vetted"}}
FIREWALL_CONFIG = """
firewall:
  allowlist:
    - {ecosystem: pypi, name: tollgate-demo, reason: "the tests' own package"}
    - {ecosystem: npm, name: "@tollgate/demo", reason: "the tests' own package"}
  release-age:
    allow:  # published by the tests themselves: the registry has no upload dates for them
      - {ecosystem: pypi, name: tollgate-demo, reason: "the tests' own package"}
      - {ecosystem: npm, name: "@tollgate/demo", reason: "the tests' own package"}
"""
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}}
_ENVIRONMENT_LOCK = threading.Lock()


def codeartifact_response(operation: str, **changes: Any) -> dict[str, Any]:
    """A documented response shape, with some values changed (timestamps become datetimes)."""
    documents = json.loads((FIXTURES / "vetting" / "codeartifact_responses.json").read_text(encoding="utf-8"))
    response = copy.deepcopy(documents[operation])
    response.update(changes)
    if "expiration" in response:
        response["expiration"] = datetime.fromisoformat(response["expiration"])
    version = response.get("packageVersion")
    if version and isinstance(version.get("publishedTime"), str):
        version["publishedTime"] = datetime.fromisoformat(version["publishedTime"])
    return response


# ------------------------------------------------------------------------------------------------
# Lambda, in process
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaContext:
    invoked_function_arn: str
    function_name: str


def _invoke_in_process(function: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    module_name, _, attribute = function.handler.rpartition(".")
    handler = getattr(import_module(module_name), attribute)
    context = LambdaContext(function.function_arn, function.function_name)
    with _ENVIRONMENT_LOCK:
        saved = dict(os.environ)
        os.environ.update({**function.environment_vars, "AWS_REGION": REGION})
        try:
            return json.dumps(handler(event, context)), False, ""
        except Exception as exc:
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}), True, ""
        finally:
            os.environ.clear()
            os.environ.update(saved)


# ------------------------------------------------------------------------------------------------
# The repository endpoint
# ------------------------------------------------------------------------------------------------


def wheel(name: str, version: str) -> tuple[str, bytes]:
    """A minimal, installable pure-Python wheel, built for the tests."""
    distribution = re.sub(r"[-_.]+", "_", name)
    dist_info = f"{distribution}-{version}.dist-info"
    files = {
        f"{distribution}/__init__.py": b"VERSION = " + repr(version).encode() + b"\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: tollgate-tests\nRoot-Is-Purelib: true\n"
                               b"Tag: py3-none-any\n"),
    }
    record = "".join(
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}\n"
        for path, data in files.items()) + f"{dist_info}/RECORD,,\n"
    files[f"{dist_info}/RECORD"] = record.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return f"{distribution}-{version}-py3-none-any.whl", buffer.getvalue()


def npm_tarball(name: str, version: str) -> tuple[str, bytes]:
    """A minimal, installable npm package tarball, built for the tests."""
    manifest = json.dumps({"name": name, "version": version, "main": "index.js"}).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, data in (("package/package.json", manifest), ("package/index.js", b"module.exports = 1;\n")):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return f"{name.rsplit('/', 1)[-1]}-{version}.tgz", buffer.getvalue()


@dataclass
class Endpoint:
    """Packages per repository: {repository: {(ecosystem, name, version): (filename, bytes)}}."""

    packages: dict[str, dict[tuple[str, str, str], tuple[str, bytes]]] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    corrupt: bool = False  # serve bytes that do not match the advertised hash
    base: str = ""

    def url(self, ecosystem: str, repository: str) -> str:
        return f"{self.base}/{ecosystem}/{repository}/"

    def add(self, repository: str, ecosystem: str, name: str, version: str) -> None:
        self.packages.setdefault(repository, {})[(ecosystem, name, version)] = (
            wheel(name, version) if ecosystem == "pypi" else npm_tarball(name, version))

    def copy(self, source: str, destination: str, key: tuple[str, str, str]) -> None:
        """What CopyPackageVersions does to the repositories' contents (an SSM pull left nothing here: built)."""
        if key in self.packages.get(source, {}):
            self.packages.setdefault(destination, {})[key] = self.packages[source][key]
        else:
            self.add(destination, *key)


def _endpoint_handler(state: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_GET(self) -> None:
            ecosystem, repository, rest = ([*self.path.lstrip("/").split("/", 2), "", "", ""])[:3]
            expected = (f"Basic {base64.b64encode(f'aws:{TOKEN}'.encode()).decode()}" if ecosystem == "pypi"
                        else f"Bearer {TOKEN}")
            if self.headers.get("Authorization") != expected:
                state.refused.append(self.path)
                return self._send(401, b"Unauthorized", "text/plain")
            packages = state.packages.get(repository, {})
            if ecosystem == "pypi":
                return self._pypi(repository, rest, packages)
            return self._npm(repository, rest, packages)

        def _pypi(self, repository: str, rest: str, packages: dict[tuple[str, str, str], tuple[str, bytes]]) -> None:
            if rest.startswith("simple/"):
                name = rest.removeprefix("simple/").strip("/")
                links = [f'<a href="../../files/{file}#sha256={hashlib.sha256(data).hexdigest()}">{file}</a>'
                         for (eco, package, _), (file, data) in packages.items() if eco == "pypi" and package == name]
                if not links:
                    return self._send(404, b"Not Found", "text/plain")
                return self._send(200, f"<html><body>{''.join(links)}</body></html>".encode(), "text/html")
            return self._file(rest.removeprefix("files/"), packages)

        def _npm(self, repository: str, rest: str, packages: dict[tuple[str, str, str], tuple[str, bytes]]) -> None:
            if rest.startswith("tarballs/"):
                return self._file(rest.removeprefix("tarballs/"), packages)
            name = rest.replace("%2f", "/").replace("%2F", "/")
            tarballs = f"{state.url('npm', repository)}tarballs/"
            versions = {version: {"name": name, "version": version, "dist": {"tarball": f"{tarballs}{file}",
                                           "integrity": "sha512-" + base64.b64encode(
                                               hashlib.sha512(data).digest()).decode()}}
                        for (eco, package, version), (file, data) in packages.items()
                        if eco == "npm" and package == name}
            if not versions:
                return self._send(404, b'{"error": "not found"}', "application/json")
            latest = sorted(versions)[-1]
            document = {"name": name, "dist-tags": {"latest": latest}, "versions": versions}
            return self._send(200, json.dumps(document).encode(), "application/json")

        def _file(self, file: str, packages: dict[tuple[str, str, str], tuple[str, bytes]]) -> None:
            for name, data in packages.values():
                if name == file:
                    state.fetched.append(file)
                    return self._send(200, data + (b"tampered" if state.corrupt else b""), "application/octet-stream")
            return self._send(404, b"Not Found", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def repository_endpoint() -> Iterator[Endpoint]:
    state = Endpoint()
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _endpoint_handler(state))) as base:
        state.base = base
        yield state


# ------------------------------------------------------------------------------------------------
# The deployment: what the module creates, in moto
# ------------------------------------------------------------------------------------------------


def render_asl(arns: dict[str, str]) -> str:
    """templatefile() for the ASL: every ${step_function_arn} replaced, none left over."""
    text = ASL.read_text(encoding="utf-8")
    for step, arn in arns.items():
        text = text.replace("${" + step + "_function_arn}", arn)
    assert "${" not in text, re.findall(r"\$\{[^}]*\}", text)
    return text


@dataclass
class Deployment:
    state_machine_arn: str
    table: str
    endpoint: Endpoint
    codeartifact: Any  # the stubbed client the handlers get
    stubber: Stubber
    bucket: str = "tollgate-ssm-output"

    def expect(self, operation: str, response: dict[str, Any], params: dict[str, Any]) -> None:
        self.stubber.add_response(operation, response, params)

    def expect_fetch(self, ecosystem: str, name: str) -> None:
        """What the fetch step asks CodeArtifact: the intake endpoint, then a token."""
        intake = REPOSITORIES[ecosystem]["intake"]
        self.expect("get_repository_endpoint",
                    codeartifact_response("GetRepositoryEndpoint",
                                          repositoryEndpoint=self.endpoint.url(ecosystem, intake)),
                    {"domain": DOMAIN, "domainOwner": ACCOUNT, "repository": intake, "format": ecosystem})
        self.expect("get_authorization_token", codeartifact_response("GetAuthorizationToken",
                                                                     authorizationToken=TOKEN),
                    {"domain": DOMAIN, "domainOwner": ACCOUNT, "durationSeconds": 900})

    def expect_intake_status(self, ecosystem: str, name: str, version: str, status: str = "Published") -> None:
        namespace, _, bare = name[1:].partition("/") if name.startswith("@") else ("", "", name)
        response = codeartifact_response("DescribePackageVersion")
        response["packageVersion"].update(format=ecosystem, packageName=bare, displayName=bare, version=version,
                                          status=status)
        params = {"domain": DOMAIN, "domainOwner": ACCOUNT, "repository": REPOSITORIES[ecosystem]["intake"],
                  "format": ecosystem, "package": bare, "packageVersion": version,
                  **({"namespace": namespace} if namespace else {})}
        self.expect("describe_package_version", response, params)

    def expect_copy(self, ecosystem: str, name: str, version: str, failed: bool = False) -> None:
        namespace, _, bare = name[1:].partition("/") if name.startswith("@") else ("", "", name)
        if failed:
            response = codeartifact_response("CopyPackageVersionsFailed")
            response["failedVersions"] = {version: response["failedVersions"]["4.0.0"]}
        else:
            response = codeartifact_response("CopyPackageVersions")
            response["successfulVersions"] = {version: response["successfulVersions"]["4.0.0"]}
        params = {"domain": DOMAIN, "domainOwner": ACCOUNT, "sourceRepository": REPOSITORIES[ecosystem]["intake"],
                  "destinationRepository": REPOSITORIES[ecosystem]["vetted"], "format": ecosystem, "package": bare,
                  "versions": [version], "allowOverwrite": False, "includeFromUpstream": False,
                  **({"namespace": namespace} if namespace else {})}
        self.expect("copy_package_versions", response, params)

    def start(self, ecosystem: str, name: str, version: str) -> str:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        event = {"ecosystem": ecosystem, "package": name, "version": version}
        started = sfn.start_execution(stateMachineArn=self.state_machine_arn, name=f"test-{uuid.uuid4()}",
                                      input=json.dumps(event))
        return str(started["executionArn"])

    def run(self, ecosystem: str, name: str, version: str, timeout: float = 30.0) -> dict[str, Any]:
        return wait_for(self.start(ecosystem, name, version), timeout)

    def item(self, key: str) -> dict[str, Any]:
        table = boto3.resource("dynamodb", region_name=REGION).Table(self.table)
        return dict(table.get_item(Key={"id": key}, ConsistentRead=True).get("Item") or {})


def wait_for(execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            history = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
            described["states"] = [event["stateEnteredEventDetails"]["name"] for event in history
                                   if "stateEnteredEventDetails" in event]
            return described
        time.sleep(0.05)
    raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")


def environment(overrides: dict[str, str]) -> dict[str, str]:
    """Every function's environment, as the module sets it (a function gets only the variables it reads)."""
    return {"TOLLGATE_VETTING_TABLE": TABLE, "TOLLGATE_VETTING_DOMAIN": DOMAIN,
            "TOLLGATE_VETTING_DOMAIN_OWNER": ACCOUNT, "TOLLGATE_VETTING_REPOSITORIES": json.dumps(REPOSITORIES),
            "TOLLGATE_VETTING_FIREWALL_CONFIG": FIREWALL_CONFIG, "TOLLGATE_VETTING_OFFLINE": "1",
            "TOLLGATE_VETTING_POLL_SECONDS": "0", "TOLLGATE_VETTING_MAX_POLLS": "3", **overrides}


def create_status_table(dynamodb: Any) -> None:
    """The table as the module declares it (a test compares the two)."""
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    dynamodb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": True,
                                                                           "AttributeName": "expires_at"})


def _copy_like_codeartifact(codeartifact: Any, endpoint: Endpoint) -> None:
    """After a stubbed CopyPackageVersions succeeds, the vetted repository serves the version."""
    requested: dict[str, Any] = {}

    def remember(params: dict[str, Any], **_: Any) -> None:
        requested.update(params)

    def copy(parsed: dict[str, Any], **_: Any) -> None:
        namespace = requested.get("namespace")
        name = f"@{namespace}/{requested['package']}" if namespace else requested["package"]
        for version in parsed.get("successfulVersions") or {}:
            endpoint.copy(requested["sourceRepository"], requested["destinationRepository"],
                          (requested["format"], name, version))

    codeartifact.meta.events.register("provide-client-params.codeartifact.CopyPackageVersions", remember)
    codeartifact.meta.events.register("after-call.codeartifact.CopyPackageVersions", copy)


@contextmanager
def vetting_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                    overrides: dict[str, str] | None = None) -> Iterator[Deployment]:
    from moto import mock_aws  # noqa: PLC0415 - moto is a test dependency, loaded by the tests that use it

    from pipeline.vetting import aws  # noqa: PLC0415

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials")}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(LambdaFunction, "_invoke_lambda", _invoke_in_process)
    with mock_aws(config=MOTO_CONFIG), repository_endpoint() as endpoint:
        codeartifact = boto3.client("codeartifact", region_name=REGION)
        stubber = Stubber(codeartifact)
        stubber.activate()
        _copy_like_codeartifact(codeartifact, endpoint)
        real_client = aws.client
        monkeypatch.setattr(aws, "client", lambda service, region=None: codeartifact if service == "codeartifact"
                            else real_client(service, region))
        create_status_table(boto3.client("dynamodb", region_name=REGION))
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="tollgate-ssm-output")
        boto3.client("securityhub", region_name=REGION).enable_security_hub()
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(RoleName="tollgate-vetting", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        functions = boto3.client("lambda", region_name=REGION)
        variables = environment({**(overrides or {}), "TOLLGATE_VETTING_SSM_OUTPUT_BUCKET": "tollgate-ssm-output"})
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("README", "the handlers run in process; see tests/pipeline/vetting/helpers.py")
        arns = {step: functions.create_function(
            FunctionName=f"tollgate-vetting-{step}", Runtime="python3.12", Role=role, Handler=handler,
            Code={"ZipFile": code.getvalue()}, Environment={"Variables": variables})["FunctionArn"]
            for step, handler in HANDLERS.items()}
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(name="tollgate-vetting", definition=render_asl(arns),
                                           roleArn=role)["stateMachineArn"]
        try:
            yield Deployment(machine, TABLE, endpoint, codeartifact, stubber)
        finally:
            stubber.deactivate()


def expect_install(deployment: Deployment, ecosystem: str) -> None:
    """What the client asks CodeArtifact before installing: a token, then the vetted endpoint."""
    vetted = REPOSITORIES[ecosystem]["vetted"]
    deployment.expect("get_authorization_token", codeartifact_response("GetAuthorizationToken",
                                                                       authorizationToken=TOKEN),
                      {"domain": DOMAIN, "domainOwner": ACCOUNT, "durationSeconds": 900})
    deployment.expect("get_repository_endpoint",
                      codeartifact_response("GetRepositoryEndpoint",
                                            repositoryEndpoint=deployment.endpoint.url(ecosystem, vetted)),
                      {"domain": DOMAIN, "domainOwner": ACCOUNT, "repository": vetted, "format": ecosystem})


def expect_green(deployment: Deployment, ecosystem: str, name: str, version: str) -> None:
    deployment.endpoint.add(REPOSITORIES[ecosystem]["intake"], ecosystem, name, version)
    deployment.expect_fetch(ecosystem, name)
    deployment.expect_intake_status(ecosystem, name, version)
    deployment.expect_copy(ecosystem, name, version)


def executions(deployment: Deployment) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return list(sfn.list_executions(stateMachineArn=deployment.state_machine_arn)["executions"])


def settle(deployment: Deployment) -> list[dict[str, Any]]:
    """Wait until no execution runs any more (a client may stop waiting before the flow ends)."""
    return [wait_for(execution["executionArn"]) for execution in executions(deployment)]
