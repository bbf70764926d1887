"""End-to-end checks of `velos serve` with real clients: requests, websocket-client, openapi-spec-validator,
jsonschema and prometheus_client's own parsers. Run by tests/api.rs, one scenario per call:

    python3 tests/python/api_e2e.py SCENARIO

The server's address and tokens come from the environment (VELOS_API_URL, VELOS_API_READ, VELOS_API_WRITE,
VELOS_API_WEBHOOK). Every response body is validated against the served /openapi.json. A failed check raises,
so the process exits non-zero with a traceback that says which.
"""
import hashlib
import hmac
import glob
import json
import os
import socket
import subprocess
import sys
import time

import jsonschema
import requests
import websocket
from openapi_spec_validator import validate as validate_spec
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

URL = os.environ["VELOS_API_URL"]
READ = os.environ["VELOS_API_READ"]
WRITE = os.environ["VELOS_API_WRITE"]
WEBHOOK = os.environ["VELOS_API_WEBHOOK"]
TIMEOUT = 15

_document = None


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def document():
    global _document
    if _document is None:
        response = requests.get(f"{URL}/openapi.json", headers=auth(READ), timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        _document = response.json()
    return _document


def response_schema(method, template, status):
    operation = document()["paths"][template][method.lower()]
    responses = operation["responses"]
    described = responses.get(str(status)) or responses.get("default")
    assert described is not None, f"{method} {template}: status {status} is not documented"
    content = described.get("content", {})
    return content.get("application/json", {}).get("schema")


def check(response, method, template, status):
    """Asserts the status, then validates a JSON body against the document's schema for it."""
    assert response.status_code == status, (
        f"{method} {template}: expected {status}, got {response.status_code}: {response.text[:500]}"
    )
    schema = response_schema(method, template, status)
    if schema is not None and response.headers.get("content-type", "").startswith("application/json"):
        # The document's components travel with the schema so its local $refs resolve.
        wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [schema],
                   "components": document()["components"]}
        jsonschema.Draft202012Validator(wrapped).validate(response.json())
    return response


def request(method, template, token=None, path=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers.update(auth(token))
    return requests.request(method, f"{URL}{path or template}", headers=headers, timeout=TIMEOUT, **kwargs)


def concrete(template):
    """A path for a template: parameters filled with a name that exists nowhere."""
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        out = out[:start] + "no-such-thing" + out[end + 1:]
    return out


# ---- scenarios ---------------------------------------------------------------------------------------------


def scenario_openapi():
    doc = document()
    validate_spec(doc)  # detects 3.1 from the "openapi" field and checks the whole document
    assert doc["openapi"].startswith("3.1"), doc["openapi"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    check(request("GET", "/healthz"), "GET", "/healthz", 200)
    print(f"openapi: valid 3.1 document, {len(doc['paths'])} paths")


def scenario_auth():
    doc = document()
    count = 0
    for template, item in doc["paths"].items():
        for method, operation in item.items():
            path = concrete(template)
            if operation.get("security") == []:
                continue  # open: the health probe, the signed webhook
            missing = request(method.upper(), template, path=path)
            body = check(missing, method.upper(), template, 401).json()
            assert body["error"]["kind"] == "unauthorized", body
            assert missing.headers.get("www-authenticate") == "Bearer"
            wrong_token = READ[:-1] + ("1" if READ.endswith("0") else "0")  # one character off
            wrong = request(method.upper(), template, token=wrong_token, path=path)
            check(wrong, method.upper(), template, 401)
            if method != "get":
                read_only = request(method.upper(), template, token=READ, path=path, json={})
                assert check(read_only, method.upper(), template, 403).json()["error"]["kind"] == "forbidden"
            count += 1
    assert count > 0
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host, and an Origin.
    rebound = request("GET", "/metrics", token=READ, headers={"Host": "evil.example:80"})
    assert rebound.status_code == 421 and rebound.json()["error"]["kind"] == "bad_host", rebound.text
    cross = request("GET", "/metrics", token=READ, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403 and cross.json()["error"]["kind"] == "bad_origin", cross.text
    print(f"auth: {count} guarded operations refuse a missing or wrong token; host and origin checked")


def scenario_limits():
    big = b"x" * (2 * 1024 * 1024)
    response = request("POST", "/v1/hooks/git", data=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413, (response.status_code, response.text[:200])
    assert response.json()["error"]["kind"] == "too_large", response.text
    huge_header = request("GET", "/healthz", headers={"X-Filler": "y" * 20000})
    assert huge_header.status_code == 431, huge_header.status_code
    unknown = request("GET", "/v1/nothing-here", token=READ)
    assert unknown.status_code == 404 and unknown.json()["error"]["kind"] == "not_found"
    print("limits: 413 for a 2 MiB body, 431 for a 20 KB header, JSON 404")


def scenario_metrics():
    expected = set(filter(None, os.environ.get("VELOS_EXPECT_UP", "").split(",")))
    text = request("GET", "/metrics", token=READ)
    assert text.status_code == 200, text.text
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4"), text.headers
    families = {family.name: family for family in parse_text(text.text)}
    for name in ["velos_process_up", "velos_process_resident_memory_bytes", "velos_process_restarts",
                 "velos_process_start_time_seconds", "velos_project_synced", "velos_reconcile",
                 "velos_reconcile_duration_seconds", "velos_drift_apps", "velos_log_lines", "velos_log_bytes"]:
        assert name in families, f"{name} missing from {sorted(families)}"
    up = {sample.labels["name"]: sample.value for sample in families["velos_process_up"].samples}
    assert {name for name, value in up.items() if value == 1.0} == expected, up
    for sample in families["velos_process_up"].samples:
        assert "pid" not in sample.labels, sample
    project = os.environ.get("VELOS_EXPECT_PROJECT")
    if project:
        # Synced once its apps have been up for their min_uptime (until then the project is progressing).
        deadline = time.time() + 10
        while True:
            synced = {s.labels["project"]: s.value for s in families["velos_project_synced"].samples}
            if synced.get(project) == 1.0 or time.time() > deadline:
                break
            time.sleep(0.2)
            families = {family.name: family for family in parse_text(request("GET", "/metrics", token=READ).text)}
        assert synced.get(project) == 1.0, synced
        applies = {(s.labels["project"], s.labels["result"]): s.value
                   for s in families["velos_reconcile"].samples if s.name == "velos_reconcile_total"}
        assert applies.get((project, "ok"), 0) >= 1, applies
        counts = {s.labels["project"]: s.value for s in families["velos_reconcile_duration_seconds"].samples
                  if s.name == "velos_reconcile_duration_seconds_count"}
        assert counts.get(project, 0) >= 1, f"each recorded apply is in the histogram: {counts}"
        drift = {s.labels["project"]: s.value for s in families["velos_drift_apps"].samples}
        assert drift.get(project) == 0.0, drift
    om = request("GET", "/metrics", token=READ,
                 headers={"Accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"})
    assert om.headers["content-type"].startswith("application/openmetrics-text"), om.headers
    om_families = {family.name: family for family in parse_openmetrics(om.text)}
    assert "velos_process_up" in om_families
    print(f"metrics: {len(families)} families; up: {sorted(expected)}")
    json.dump({name: value for name, value in up.items()}, sys.stdout)


def sign(body):
    return "sha256=" + hmac.new(WEBHOOK.encode(), body, hashlib.sha256).hexdigest()


def push_payload():
    repository = os.environ["VELOS_REPO"]
    return json.dumps({"ref": "refs/heads/main", "repository": {"clone_url": repository}}).encode()


def scenario_webhook_bad():
    body = push_payload()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": "bad-1"}
    unsigned = request("POST", "/v1/hooks/git", data=body, headers=dict(headers))
    assert check(unsigned, "POST", "/v1/hooks/git", 401).json()["error"]["kind"] == "bad_signature"
    forged = dict(headers, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    check(request("POST", "/v1/hooks/git", data=body, headers=forged), "POST", "/v1/hooks/git", 401)
    # Signed for another body: the signature covers the raw bytes.
    tampered = dict(headers, **{"X-Hub-Signature-256": sign(body + b" ")})
    check(request("POST", "/v1/hooks/git", data=body, headers=tampered), "POST", "/v1/hooks/git", 401)
    gitlab = {"Content-Type": "application/json", "X-Gitlab-Token": "not-the-secret"}
    check(request("POST", "/v1/hooks/git", data=body, headers=gitlab), "POST", "/v1/hooks/git", 401)
    print("webhook: unsigned, forged, tampered and wrong-token deliveries refused")


def scenario_webhook_good():
    body = push_payload()
    delivery = f"good-{time.time_ns()}"
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": delivery,
               "X-Hub-Signature-256": sign(body)}
    first = check(request("POST", "/v1/hooks/git", data=body, headers=headers), "POST", "/v1/hooks/git", 200)
    assert first.json()["result"] == "synced", first.json()
    assert first.json()["projects"] == [os.environ["VELOS_PROJECT"]], first.json()
    again = check(request("POST", "/v1/hooks/git", data=body, headers=headers), "POST", "/v1/hooks/git", 200)
    assert again.json()["result"] == "duplicate", again.json()
    gitlab = {"Content-Type": "application/json", "X-Gitlab-Token": WEBHOOK, "X-Gitlab-Event-UUID": delivery + "-gl"}
    by_token = check(request("POST", "/v1/hooks/git", data=body, headers=gitlab), "POST", "/v1/hooks/git", 200)
    assert by_token.json()["result"] == "synced", by_token.json()
    print("webhook: a signed push synced its project, the repeat was dropped, a GitLab token works")


def ws_connect(path, token=READ, **options):
    url = URL.replace("http://", "ws://", 1) + path
    return websocket.create_connection(url, header=[f"Authorization: Bearer {token}"], timeout=TIMEOUT, **options)


def scenario_follow():
    """Lines written after the client connected arrive, from the right app; a bad name is a JSON 404."""
    trigger = os.environ["VELOS_TRIGGER"]
    missing = request("GET", "/v1/apps/{name}/logs/follow", token=READ, path="/v1/apps/nope/logs/follow")
    assert check(missing, "GET", "/v1/apps/{name}/logs/follow", 404).json()["error"]["kind"] == "not_found"
    for path in ["/v1/apps/talker/logs/follow?stream=out", "/v1/logs/follow"]:
        connection = ws_connect(path)
        nonce = f"nonce-{time.time_ns()}"
        with open(trigger + ".tmp", "w") as handle:
            handle.write(nonce)
        os.rename(trigger + ".tmp", trigger)  # the app reads it whole, then prints MARKER-<nonce>
        deadline = time.time() + 10
        seen = []
        while time.time() < deadline:
            chunk = json.loads(connection.recv())
            seen.append(chunk)
            if f"MARKER-{nonce}" in chunk["data"]:
                assert chunk["app"] == "talker" and chunk["stream"] == "out", chunk
                break
        else:
            raise AssertionError(f"{path}: MARKER-{nonce} never arrived; got {seen[-5:]}")
        connection.close()
    print("follow: lines written after connecting arrive on the app and the all-apps streams")


def written(log):
    """How far the app's log has come: its newest rotated generation (NAME-out.log.G; rotation is on by
    default), then the current file's size, so a rotation counts as growth."""
    generations = [int(path.rsplit(".", 1)[1]) for path in glob.glob(log + ".*") if path.rsplit(".", 1)[1].isdigit()]
    return (max(generations, default=0), os.path.getsize(log))


def scenario_slow_client():
    """A client that stops reading is dropped; the daemon keeps writing the app's log at full speed."""
    log = os.environ["VELOS_SPEW_LOG"]
    connection = ws_connect("/v1/apps/spew/logs/follow?stream=out",
                            sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    time.sleep(3)  # not reading: the server's queue for this client fills
    before = written(log)
    deadline = time.time() + 30
    closed_with = None
    received = 0
    while time.time() < deadline:
        try:
            opcode, data = connection.recv_data(control_frame=True)
        except (websocket.WebSocketConnectionClosedException, ConnectionResetError):
            closed_with = "reset"
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            closed_with = int.from_bytes(data[:2], "big") if len(data) >= 2 else "close"
            break
        received += 1
    assert closed_with == 1008, f"the slow client was not dropped with 1008 (got {closed_with}, {received} messages)"
    time.sleep(0.5)
    assert written(log) > before, "the app's log stopped growing: the daemon was slowed"
    check(request("GET", "/healthz"), "GET", "/healthz", 200)
    print(f"slow_client: dropped with 1008 after {received} buffered messages; the log kept growing")


def scenario_events():
    velos = os.environ["VELOS_BIN"]
    connection = ws_connect("/v1/events")
    subprocess.run([velos, "stop", "talker"], check=True, capture_output=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        event = json.loads(connection.recv())
        if event["type"] == "state" and event["name"] == "talker" and event["status"] == "stopped":
            break
    else:
        raise AssertionError("no stopped event for talker")
    applied = False
    while time.time() < deadline:
        event = json.loads(connection.recv())
        if event["type"] == "apply" and event["project"] == "default":
            applied = True
            break
    assert applied, "the stop was recorded as an apply, but no apply event came"
    # The default project's file edited behind Velos's back: the project is out of sync.
    with open(os.path.join(os.environ["VELOS_HOME"], "velos.toml"), "a") as handle:
        handle.write("\n# edited by hand\n")
    deadline = time.time() + 10
    while time.time() < deadline:
        event = json.loads(connection.recv())
        if event["type"] == "project" and event["project"] == "default" and event["state"] == "out_of_sync":
            # Synced, or still progressing when the apps have not yet been up for their min_uptime.
            assert event["previous"] in ("synced", "progressing"), event
            break
    else:
        raise AssertionError("no out_of_sync event for the edited project")
    connection.close()
    print("events: a state change, a recorded apply and a project out of sync arrived")


def apps_by_name():
    response = check(request("GET", "/v1/apps", token=READ), "GET", "/v1/apps", 200)
    return {app["name"]: app for app in response.json()["apps"]}


def scenario_reads():
    """Every read route answers what the CLI would, in the documented shape."""
    apps = apps_by_name()
    assert {"web", "jobs"} <= set(apps), apps.keys()
    one = check(request("GET", "/v1/apps/{name}", token=READ, path="/v1/apps/web"), "GET", "/v1/apps/{name}", 200)
    assert [app["record"]["name"] for app in one.json()["apps"]] == ["web"], one.json()
    instances = check(request("GET", "/v1/apps/{name}/instances", token=READ, path="/v1/apps/web/instances"),
                      "GET", "/v1/apps/{name}/instances", 200)
    assert instances.json()["instances"][0]["status"] == "running"
    typo = check(request("GET", "/v1/apps/{name}", token=READ, path="/v1/apps/wbe"), "GET", "/v1/apps/{name}", 404)
    assert typo.json()["error"]["kind"] == "not_found", typo.json()
    assert "web" in json.dumps(typo.json()["error"].get("detail", {})), f"did you mean web? {typo.json()}"
    logs = check(request("GET", "/v1/apps/{name}/logs", token=READ, path="/v1/apps/web/logs?lines=5"),
                 "GET", "/v1/apps/{name}/logs", 200).json()
    assert logs["truncated"] is False and logs["logs"][0]["lines"][-1].startswith("hello from web"), logs
    grep = check(request("GET", "/v1/apps/{name}/logs", token=READ, path="/v1/apps/web/logs?lines=50000&grep=nothing-matches"),
                 "GET", "/v1/apps/{name}/logs", 200).json()
    assert grep["truncated"] is True and grep["logs"][0]["lines"] == [], grep
    errors = check(request("GET", "/v1/apps/{name}/logs", token=READ, path="/v1/apps/web/logs?level=error&since=1h"),
                   "GET", "/v1/apps/{name}/logs", 200).json()
    assert {entry["stream"] for entry in errors["logs"]} == {"out", "err"}, f"both streams by default: {errors}"
    bad_since = check(request("GET", "/v1/apps/{name}/logs", token=READ, path="/v1/apps/web/logs?since=yesterday"),
                      "GET", "/v1/apps/{name}/logs", 422)
    assert bad_since.json()["error"]["kind"] == "invalid_input", bad_since.json()
    summary = check(request("GET", "/v1/apps/{name}/logs/summary", token=READ, path="/v1/apps/web/logs/summary?budget=200"),
                    "GET", "/v1/apps/{name}/logs/summary", 200).json()
    [web_summary] = summary["summaries"]
    assert web_summary["app"] == "web" and "hello from web" in json.dumps(web_summary["summary"]), summary
    assert len(json.dumps(web_summary["summary"])) <= 200 * 4 * 1.25, f"the summary fits its budget: {summary}"
    window = check(request("GET", "/v1/apps/{name}/logs/summary", token=READ, path="/v1/apps/web/logs/summary?since=1h"),
                   "GET", "/v1/apps/{name}/logs/summary", 200).json()
    asked = window["summaries"][0]["summary"]
    assert asked["window"] == "asked" and asked["lines"] >= 1 and "since" in asked, window
    empty = check(request("GET", "/v1/apps/{name}/logs/summary", token=READ, path="/v1/apps/web/logs/summary?until=1h"),
                  "GET", "/v1/apps/{name}/logs/summary", 200).json()
    assert empty["summaries"][0]["summary"]["lines"] == 0, f"nothing is an hour old: {empty}"
    proposals = check(request("GET", "/v1/proposals", token=READ, path="/v1/proposals?all=true"),
                      "GET", "/v1/proposals", 200).json()
    assert proposals["proposals"] == [], proposals
    unknown = check(request("GET", "/v1/proposals/{id}", token=READ, path="/v1/proposals/p-nope"),
                    "GET", "/v1/proposals/{id}", 404).json()
    assert unknown["error"]["kind"] == "not_found", unknown
    refused = check(request("POST", "/v1/proposals/{id}/approve", token=WRITE, path="/v1/proposals/p-nope/approve"),
                    "POST", "/v1/proposals/{id}/approve", 404).json()
    assert refused["error"]["kind"] == "not_found", refused
    templates = check(request("GET", "/v1/apps/{name}/logs/templates", token=READ, path="/v1/apps/web/logs/templates"),
                      "GET", "/v1/apps/{name}/logs/templates", 200).json()
    assert templates["app"] == "web" and templates["templates"][0]["count"] >= 1, templates
    status = check(request("GET", "/v1/projects", token=READ), "GET", "/v1/projects", 200).json()
    assert [project["project"] for project in status["projects"]] == ["shop"], status
    project = check(request("GET", "/v1/projects/{project}", token=READ, path="/v1/projects/shop"),
                    "GET", "/v1/projects/{project}", 200).json()
    assert project["state"] == "synced", project
    config = check(request("GET", "/v1/projects/{project}/config", token=READ, path="/v1/projects/shop/config"),
                   "GET", "/v1/projects/{project}/config", 200)
    assert config.headers["etag"] == f'"{config.json()["revision"]}"', config.headers
    assert config.json()["config"]["apps"]["web"]["env"]["PORT"] == "8001", config.json()
    toml = request("GET", "/v1/projects/{project}/config", token=READ, path="/v1/projects/shop/config?format=toml")
    assert toml.status_code == 200 and toml.text == config.json()["toml"], toml.text
    assert toml.headers["etag"] == config.headers["etag"]
    plan = check(request("GET", "/v1/projects/{project}/plan", token=READ, path="/v1/projects/shop/plan"),
                 "GET", "/v1/projects/{project}/plan", 200).json()
    assert plan["plan"]["actions"] == [], plan
    diff = check(request("GET", "/v1/projects/{project}/diff", token=READ, path="/v1/projects/shop/diff"),
                 "GET", "/v1/projects/{project}/diff", 200).json()
    assert diff["changes"] is False, diff
    history = check(request("GET", "/v1/projects/{project}/history", token=READ, path="/v1/projects/shop/history"),
                    "GET", "/v1/projects/{project}/history", 200).json()
    assert len(history["entries"]) >= 1 and history["entries"][-1]["project"] == "shop", history
    check(request("GET", "/v1/history", token=READ), "GET", "/v1/history", 200)
    missing = request("GET", "/v1/projects/{project}/config", token=READ, path="/v1/projects/nope/config")
    assert check(missing, "GET", "/v1/projects/{project}/config", 404).json()["error"]["kind"] == "not_found"
    print(f"reads: {len(apps)} apps, project synced, config revision {config.json()['revision']}")


def pids():
    return {name: app["pid"] for name, app in apps_by_name().items()}


def scenario_patch():
    """A merge patch of one app's env restarts that app only and keeps the file's comments; a stale
    If-Match is 412 and an invalid patch 422 with file:line:column, both writing nothing."""
    template = "/v1/projects/{project}/config"
    path = "/v1/projects/shop/config"
    config = check(request("GET", template, token=READ, path=path), "GET", template, 200)
    etag = config.headers["etag"]
    file = config.json()["file"]
    before = pids()
    patch = {"apps": {"web": {"env": {"PORT": "8002"}}}}
    denied = request("PATCH", template, token=READ, path=path, json=patch, headers={"If-Match": etag})
    check(denied, "PATCH", template, 403)
    done = check(request("PATCH", template, token=WRITE, path=path, json=patch, headers={"If-Match": etag}),
                 "PATCH", template, 200).json()
    assert done["revision"] != done["previous_revision"], done
    actions = [(action["name"], action["action"]) for action in done["apply"]["plan"]["actions"]]
    assert actions == [("web", "replace")], actions
    after = pids()
    assert after["web"] != before["web"], "web runs a new process with the new env"
    assert after["jobs"] == before["jobs"], "jobs was not touched"
    with open(file) as handle:
        text = handle.read()
    assert "# the shop's web front" in text and "# background jobs" in text, f"comments kept:\n{text}"
    assert 'PORT = "8002"' in text, text

    stale = request("PATCH", template, token=WRITE, path=path, json={"apps": {"web": {"env": {"PORT": "9"}}}},
                    headers={"If-Match": etag})
    assert check(stale, "PATCH", template, 412).json()["error"]["kind"] == "stale", stale.text
    with open(file) as handle:
        assert handle.read() == text, "a stale patch wrote nothing"

    invalid = request("PATCH", template, token=WRITE, path=path, json={"apps": {"web": {"comand": "/bin/true"}}})
    body = check(invalid, "PATCH", template, 422).json()
    diagnostics = body["error"]["diagnostics"]
    assert diagnostics and all(key in diagnostics[0] for key in ("file", "line", "column")), body
    assert diagnostics[0]["line"] >= 1 and diagnostics[0]["column"] >= 1, diagnostics
    assert "comand" in diagnostics[0]["message"], diagnostics
    with open(file) as handle:
        assert handle.read() == text, "an invalid patch wrote nothing"
    assert pids() == after, "an invalid patch changed nothing on the host"
    print(f"patch: web {before['web']} -> {after['web']}, jobs untouched; 412 and 422 wrote nothing")


def scenario_writes():
    """The app verbs over HTTP, each the same edit as on the CLI."""
    base = "/v1/apps/{name}"

    def post(verb, name, body=None, status=200):
        template = f"{base}/{verb}"
        response = request("POST", template, token=WRITE, path=f"/v1/apps/{name}/{verb}", json=body)
        return check(response, "POST", template, status).json()

    before = pids()
    post("restart", "web")
    assert pids()["web"] != before["web"], "restart gives a new process"
    restarted = pids()["web"]
    reloaded = post("reload", "web")
    assert [app["app"] for app in reloaded["apps"]] == ["web"], reloaded
    assert reloaded["apps"][0]["instances"][0]["outcome"] == "done", reloaded
    assert reloaded["apps"][0]["rollout"] == {"strategy": "stop-first", "max_unavailable": 1}, reloaded
    assert pids()["web"] != restarted, "reload gives a new process"
    post("stop", "jobs")
    assert apps_by_name()["jobs"]["status"] == "stopped"
    post("start", "jobs")
    assert apps_by_name()["jobs"]["status"] == "running"
    post("scale", "jobs", {"instances": "+1"})
    assert {"jobs-0", "jobs-1"} <= set(apps_by_name()), apps_by_name().keys()
    post("set", "web", {"values": {"env.MODE": "fast"}})
    post("unset", "web", {"keys": ["env.MODE"]})
    unknown = post("start", "no-such-app", status=404)
    assert unknown["error"]["kind"] == "not_found", unknown
    deleted = request("DELETE", base, token=WRITE, path="/v1/apps/web")
    check(deleted, "DELETE", base, 200)
    assert "web" not in apps_by_name()
    print("writes: restart, reload, stop, start, scale +1, set, unset, delete")


SCENARIOS = {name[len("scenario_"):]: function for name, function in globals().items()
             if name.startswith("scenario_")}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        sys.exit(f"usage: api_e2e.py {{{'|'.join(sorted(SCENARIOS))}}}")
    SCENARIOS[sys.argv[1]]()
