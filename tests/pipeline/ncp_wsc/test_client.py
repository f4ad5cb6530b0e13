"""The Web Security Checker client: signing, validation, error handling, and every call against the stub.

Signature vectors are computed in the test with `hmac`/`hashlib`/`base64` and a fixed timestamp,
and pinned as literals too, so the signer can change neither silently nor together with the test.
The stub (tests/ncp_wsc_stub.py) checks every signature with its own code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from pipeline.errors import ConfigError, ExitCode, ScannerError, ScannerTimeout
from pipeline.ncp_wsc import endpoints
from pipeline.ncp_wsc.client import WscClient, instance_number
from pipeline.ncp_wsc.errors import api_error
from pipeline.ncp_wsc.jobs import JobRecord, Outcome, records
from pipeline.ncp_wsc.signing import Credentials, auth_headers, credentials_from_env, signature
from pipeline.ncp_wsc.validation import JobSpec, job_spec, parse_headers
from pipeline.scope import Allowlist
from tests.ncp_wsc_stub import ACCESS_KEY, SECRET_KEY, THROTTLED, WscStub, serve

EXAMPLE = Credentials("NCPACCESSKEYEXAMPLE", "NCPSECRETKEYEXAMPLE0123456789")
TIMESTAMP = "1700000000000"
TARGET = "http://127.0.0.1:8999/shop/"
ALLOW = Allowlist.parse(["127.0.0.1:8999"])


def expected_signature(method: str, uri: str, timestamp: str, access: str, secret: str) -> str:
    message = f"{method} {uri}\n{timestamp}\n{access}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("method, uri, pinned", [
    ("GET", "/api/v1/jobs?limit=10&page=1", "jNsYud9ywTs7wSrZhSxyNnJa5frFCiGmy54QrjEkcdE="),
    ("PUT", "/api/v1/job", "vzPxUIcocdsx4PmmKm/PR3OmPwgzqkTu13ksGIiYve4="),
])
def test_signature_matches_independent_hmac_vectors(method: str, uri: str, pinned: str) -> None:
    independent = expected_signature(method, uri, TIMESTAMP, EXAMPLE.access_key, EXAMPLE.secret_key)
    assert independent == pinned
    assert signature(method, uri, TIMESTAMP, EXAMPLE) == pinned
    headers = auth_headers(method, uri, int(TIMESTAMP), EXAMPLE)
    assert headers == {"x-ncp-apigw-timestamp": TIMESTAMP, "x-ncp-iam-access-key": "NCPACCESSKEYEXAMPLE",
                       "x-ncp-apigw-signature-v2": pinned}


def test_signature_covers_method_query_and_timestamp() -> None:
    base = signature("GET", "/api/v1/jobs?limit=10&page=1", TIMESTAMP, EXAMPLE)
    assert signature("get", "/api/v1/jobs?limit=10&page=1", TIMESTAMP, EXAMPLE) == base  # methods are upper-cased
    assert signature("GET", "/api/v1/jobs?limit=10&page=2", TIMESTAMP, EXAMPLE) != base
    assert signature("GET", "/api/v1/jobs?limit=10&page=1", "1700000000001", EXAMPLE) != base


def test_keys_never_show_in_repr_str_or_a_client() -> None:
    credentials = credentials_from_env({"NCP_ACCESS_KEY": "AK-visible?", "NCP_SECRET_KEY": "SK-visible?"})
    assert credentials is not None
    client = WscClient("https://wsc.apigw.ntruss.com", credentials, time.monotonic() + 5)
    for shown in (repr(credentials), str(credentials), repr(client), repr([credentials])):
        assert "visible" not in shown
    assert credentials_from_env({"NCP_ACCESS_KEY": "only-one"}) is None
    assert credentials_from_env({"A": "x", "B": "y"}, "A", "B") == Credentials("x", "y")


@pytest.mark.parametrize("endpoint, host", [
    (None, "https://wsc.apigw.ntruss.com"), ("public", "https://wsc.apigw.ntruss.com"),
    ("gov", "https://wsc.apigw.gov-ntruss.com"), ("fin", "https://wsc.apigw.fin-ntruss.com"),
])
def test_endpoints(endpoint: str | None, host: str) -> None:
    assert endpoints.base_url(endpoint) == host


def test_base_url_override_and_bad_endpoints() -> None:
    assert endpoints.base_url("gov", "http://127.0.0.1:9/") == "http://127.0.0.1:9"
    with pytest.raises(ConfigError, match="expected one of public, gov, fin"):
        endpoints.base_url("private")
    with pytest.raises(ConfigError, match="no path"):
        endpoints.base_url(None, "http://127.0.0.1:9/api/v1")
    with pytest.raises(ConfigError, match="no user or password") as refused:
        endpoints.base_url(None, "https://proxy-user:hunter2@proxy.example:8443")
    assert "hunter2" not in str(refused.value)


# --- validation before sending ---------------------------------------------------------------


def spec(**changes: object) -> JobSpec:
    arguments: dict[str, object] = {"vuln_items": ["ALL"], "user_agent": "PC Chrome", "speed": "1"}
    arguments.update(changes)
    return job_spec(TARGET, ALLOW, **arguments)  # type: ignore[arg-type]


def test_a_valid_job_body() -> None:
    body = spec(vuln_items=("XSS", "SQL Injection", "XSS"), exclude_urls=["http://127.0.0.1:8999/shop/logout"],
                headers={"Cookie": "JSESSIONID=abc"}, master_instance=77).body()
    assert body == {"StartUrl": TARGET, "VulnItems": ["XSS", "SQL Injection"], "UserAgent": "PC Chrome",
                    "Speed": "1", "Memo": "tollgate", "ExcludeUrl": ["http://127.0.0.1:8999/shop/logout"],
                    "Headers": {"Cookie": "JSESSIONID=abc"}, "MasterInstanceNo": "77"}


@pytest.mark.parametrize("changes, message", [
    ({"vuln_items": "XSS"}, "must be a list of names"),
    ({"vuln_items": []}, "unknown item"),
    ({"vuln_items": ["XSS", "Clickjacking"]}, "unknown item(s) ['Clickjacking']"),
    ({"vuln_items": ["ALL", "XSS"]}, '"ALL" must stand alone'),
    ({"user_agent": "Firefox"}, "UserAgent: 'Firefox' is not one of 'PC Chrome', 'PC IE', 'iPhone', 'Android'"),
    ({"speed": "4"}, "Speed: '4' is not one of '1', '2', '3'"),
    ({"speed": 2}, "Speed: 2 is not one of"),
])
def test_bad_requests_are_refused_with_one_line(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        spec(**changes)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert refused.value.exit_code == ExitCode.USAGE


def test_the_start_url_must_pass_the_dast_allowlist() -> None:
    with pytest.raises(ConfigError, match="not in the allowlist"):
        job_spec("http://evil.example/", ALLOW, vuln_items=["ALL"], user_agent="PC Chrome", speed="1")
    with pytest.raises(ConfigError, match="credentials in the URL"):
        job_spec("http://127.0.0.1:8999@evil.example/", ALLOW, vuln_items=["ALL"], user_agent="PC Chrome", speed="1")


def test_headers_parse_from_json_or_lines_and_never_echo_values() -> None:
    assert parse_headers('{"Cookie": "a=b", "Authorization": "Bearer t"}', "$H") == {
        "Cookie": "a=b", "Authorization": "Bearer t"}
    assert parse_headers("Cookie: a=b\nAuthorization: Bearer t: with colon\n", "$H") == {
        "Cookie": "a=b", "Authorization": "Bearer t: with colon"}
    for bad in ("no-colon-secret-value", '{"Cookie": 5}', "{not json secret-value"):
        with pytest.raises(ConfigError) as refused:
            parse_headers(bad, "$WSC_HEADERS")
        assert "$WSC_HEADERS" in str(refused.value) and "secret-value" not in str(refused.value)


# --- what answers mean --------------------------------------------------------------------------


def test_errors_are_read_from_the_body_whatever_the_status() -> None:
    assert api_error(200, {"returnCode": "0", "resources": None}) is None
    assert api_error(200, {"total_cnt": 0}) is None
    service = api_error(200, {"error": {"errorCode": 160451, "message": "Assets_Check_Fail"}})
    assert service is not None and (service.code, service.retryable) == ("160451", False)
    returned = api_error(200, {"returnCode": "901", "returnMessage": "API Call Fail"})
    assert returned is not None and returned.code == "901"
    for code in ("400", "410", "420"):
        throttled = api_error(429, {"error": {"errorCode": code, "message": "x"}})
        assert throttled is not None and throttled.retryable
    unavailable = api_error(503, None)
    assert unavailable is not None and unavailable.retryable
    auth = api_error(401, {"error": {"errorCode": "200", "message": "Authentication Failed"}})
    assert auth is not None and not auth.retryable
    assert isinstance(auth.exception("GET /api/v1/jobs"), ConfigError)


def test_job_outcomes_from_status_codes_and_result_buttons() -> None:
    def outcome(status: str, button: str = "") -> Outcome:
        record = JobRecord.from_api({"instanceNo": 1, "status": status, "result_button": button})
        assert record is not None
        return record.outcome

    assert [outcome(code) for code in ("12", "13", "14", "2", "3", "92")] == [Outcome.RUNNING] * 6
    assert (outcome("4"), outcome("5"), outcome("15"), outcome("91"), outcome("93")) == (
        Outcome.COMPLETE, Outcome.FAILED, Outcome.FAILED, Outcome.CANCELLED, Outcome.STOPPED)
    assert outcome("3", "cancel") is Outcome.RUNNING  # a documented running code wins over the button
    assert (outcome("Complete", "report"), outcome("Done", "expired"), outcome("Error", "cause")) == (
        Outcome.COMPLETE, Outcome.EXPIRED, Outcome.FAILED)
    assert outcome("Scanning") is Outcome.RUNNING
    bare = records({"record_data": [{"instanceNo": "7", "status": "13", "progress": 40, "crawl_cnt": 12}, {}]})
    assert [(r.instance, r.activity) for r in bare] == [(7, "crawling 40%, 12 URLs crawled")]


def test_create_job_answers_carry_the_instance_number() -> None:
    assert instance_number({"returnCode": "0", "resources": {"instanceNo": 12}}) == 12
    assert instance_number({"returnCode": "0", "resources": "13"}) == 13
    assert instance_number({"returnCode": "0", "resources": None}) is None


# --- against the stub ---------------------------------------------------------------------------


@pytest.fixture
def stub() -> Iterator[tuple[WscStub, WscClient]]:
    wsc = WscStub()
    with serve(wsc) as url:
        yield wsc, WscClient(url, Credentials(ACCESS_KEY, SECRET_KEY), time.monotonic() + 30, backoff=0.01)


def test_every_documented_call_signed_and_answered(stub: tuple[WscStub, WscClient]) -> None:
    wsc, client = stub
    instance = client.create_job(spec())
    assert wsc.jobs[instance].start_url == TARGET
    assert client.find_job(instance).status == "12"
    searched = records(client.search_jobs("127.0.0.1:8999"))
    assert [job.instance for job in searched] == [instance]
    while client.find_job(instance).outcome is not Outcome.COMPLETE:
        pass
    assert client.get_report(instance)["resources"]["Classify_byRisk_Level"]["Total"] == 9
    rescan = client.create_job(spec(master_instance=instance))
    assert wsc.jobs[rescan].master == instance
    client.cancel_job(rescan)
    assert client.find_job(rescan).outcome is Outcome.CANCELLED
    other = client.create_job(spec())
    client.stop_job(other)
    assert client.find_job(other).outcome is Outcome.STOPPED
    assert wsc.calls()[:3] == ["PUT /api/v1/job", "GET /api/v1/jobs", "POST /api/v1/jobs/search"]
    assert {r.headers["x-ncp-iam-access-key"] for r in wsc.requests} == {ACCESS_KEY}
    assert all(SECRET_KEY not in str(r.headers) for r in wsc.requests)


def test_find_job_pages_through_get_jobs(stub: tuple[WscStub, WscClient]) -> None:
    wsc, client = stub
    oldest = wsc.add_job(TARGET)
    for _ in range(60):
        wsc.add_job(TARGET)
    assert client.find_job(oldest).instance == oldest
    assert [r.target for r in wsc.requests] == ["/api/v1/jobs?limit=50&page=1", "/api/v1/jobs?limit=50&page=2"]
    with pytest.raises(ScannerError, match="job 999 is not among this account's jobs"):
        client.find_job(999)


def test_throttling_is_retried_with_backoff(stub: tuple[WscStub, WscClient]) -> None:
    wsc, client = stub
    wsc.script(429, THROTTLED, times=2)
    wsc.script(503, {"error": {"errorCode": "500", "message": "Endpoint Error"}})
    assert client.create_job(spec()) == 5001
    assert wsc.calls() == ["PUT /api/v1/job"] * 4


def test_throttling_gives_up_after_the_last_try(stub: tuple[WscStub, WscClient]) -> None:
    wsc, client = stub
    wsc.script(429, {"error": {"errorCode": "400", "message": "Quota Exceeded"}}, times=10)
    with pytest.raises(ScannerError, match=r"still refused after 6 tries: HTTP 429, error 400 Quota Exceeded"):
        client.get_jobs()
    assert len(wsc.requests) == 6


def test_throttling_stops_at_the_deadline() -> None:
    wsc = WscStub()
    wsc.script(429, THROTTLED, times=10)
    with serve(wsc) as url:
        client = WscClient(url, Credentials(ACCESS_KEY, SECRET_KEY), time.monotonic() + 1.0, backoff=0.4)
        with pytest.raises(ScannerTimeout, match="still throttled at the timeout"):
            client.get_jobs()
    assert 1 <= len(wsc.requests) <= 3


@pytest.mark.parametrize("code, message, kind", [
    ("200", "Authentication Failed", ConfigError),
    ("210", "Permission Denied", ConfigError),
])
def test_gateway_401s_are_not_retried(stub: tuple[WscStub, WscClient], code: str, message: str,
                                      kind: type[Exception]) -> None:
    wsc, client = stub
    wsc.script(401, {"error": {"errorCode": code, "message": message}}, times=3)
    with pytest.raises(kind) as failed:
        client.get_jobs()
    assert str(failed.value) == (f"NCP Web Security Checker: GET /api/v1/jobs failed: HTTP 401, error {code} "
                                 f"{message}")
    assert len(wsc.requests) == 1


def test_a_wrong_secret_is_authentication_failed_with_a_tip() -> None:
    wsc = WscStub()
    with serve(wsc) as url:
        client = WscClient(url, Credentials(ACCESS_KEY, "wrong-secret"), time.monotonic() + 5)
        with pytest.raises(ConfigError) as failed:
            client.get_jobs()
    assert "error 200 Authentication Failed" in str(failed.value) and "wrong-secret" not in str(failed.value)
    assert failed.value.tip is not None and "clock" in failed.value.tip
    assert len(wsc.requests) == 1


def test_a_clock_more_than_five_minutes_off_is_refused_by_the_gateway() -> None:
    wsc = WscStub()
    with serve(wsc) as url:
        skewed = WscClient(url, Credentials(ACCESS_KEY, SECRET_KEY), time.monotonic() + 5,
                           clock=lambda: time.time() - 6 * 60)
        with pytest.raises(ConfigError, match="error 200 Authentication Failed"):
            skewed.get_jobs()
        close = WscClient(url, Credentials(ACCESS_KEY, SECRET_KEY), time.monotonic() + 5,
                          clock=lambda: time.time() - 4 * 60)
        assert records(close.get_jobs()) == ()
    stamps = [int(r.headers["x-ncp-apigw-timestamp"]) for r in wsc.requests]
    assert 115_000 < stamps[1] - stamps[0] < 125_000  # the two clocks' two minutes, in milliseconds


@pytest.mark.parametrize("status", [400, 200])
def test_service_errors_are_not_retried_and_read_from_any_status(status: int) -> None:
    wsc = WscStub(service_error_status=status)
    with serve(wsc) as url:
        client = WscClient(url, Credentials(ACCESS_KEY, SECRET_KEY), time.monotonic() + 5)
        outside = job_spec("http://10.0.0.9/", Allowlist.parse(["10.0.0.9"]), vuln_items=["ALL"],
                           user_agent="PC Chrome", speed="1")
        with pytest.raises(ScannerError) as failed:
            client.create_job(outside)
    assert str(failed.value) == (f"NCP Web Security Checker: PUT /api/v1/job failed: HTTP {status}, "
                                 "error 160451 Assets_Check_Fail")
    assert failed.value.exit_code == ExitCode.TOOL_FAILED
    assert failed.value.tip is not None and "created in your NAVER Cloud account" in failed.value.tip
    assert len(wsc.requests) == 1


@pytest.mark.parametrize("vuln_items, code", [("XSS", "160431"), (["ALL", "XSS"], "160433")])
def test_service_side_vuln_item_errors_are_config_errors(stub: tuple[WscStub, WscClient], vuln_items: object,
                                                         code: str) -> None:
    """The service's own checks, reached only by a body built without job_spec."""
    wsc, client = stub
    raw = JobSpec(ALLOW.guard(TARGET), ("ALL",), "PC Chrome", "1")
    with pytest.raises(ConfigError, match=f"error {code} "):
        client.call("PUT", endpoints.CREATE_JOB, body={**raw.body(), "VulnItems": vuln_items})
    assert len(wsc.requests) == 1


def test_a_report_before_completion_is_a_clear_error(stub: tuple[WscStub, WscClient]) -> None:
    wsc, client = stub
    instance = client.create_job(spec(vuln_items=["XSS"]))
    with pytest.raises(ScannerError, match=f"GET /api/v1/jobs/{instance}/report failed: HTTP 400, error 901"):
        client.get_report(instance)
    assert wsc.calls() == ["PUT /api/v1/job", f"GET /api/v1/jobs/{instance}/report"]


def test_an_unreachable_service_is_one_line_without_keys() -> None:
    client = WscClient("http://127.0.0.1:9", Credentials("AK-hidden", "SK-hidden"), time.monotonic() + 5)
    with pytest.raises(ScannerError) as failed:
        client.get_jobs()
    assert str(failed.value) == ("NCP Web Security Checker: GET /api/v1/jobs to http://127.0.0.1:9 failed: "
                                 "ConnectionError")


def test_no_request_after_the_deadline() -> None:
    client = WscClient("http://127.0.0.1:9", Credentials("a", "b"), time.monotonic() - 1)
    with pytest.raises(ScannerTimeout, match="timed out before GET /api/v1/jobs"):
        client.get_jobs()


def test_a_success_without_json_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    response = requests.Response()
    response.status_code, response._content = 200, b"<html>gateway page</html>"
    client = WscClient("http://127.0.0.1:9", Credentials("a", "b"), time.monotonic() + 5)
    monkeypatch.setattr(client.session, "send", lambda *args, **kwargs: response)
    with pytest.raises(ScannerError, match="answered HTTP 200 without JSON"):
        client.get_jobs()


def test_a_request_the_deadline_cuts_short_is_the_scans_timeout_not_a_failure() -> None:
    # A listening socket that never answers: the read waits until the scan's remaining time runs out.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        client = WscClient(url, Credentials("a", "b"), time.monotonic() + 0.3)
        with pytest.raises(ScannerTimeout, match="GET /api/v1/jobs was still unanswered at the timeout"):
            client.get_jobs()
