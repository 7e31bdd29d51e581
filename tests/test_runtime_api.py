"""The runtime API: sessions in PostgreSQL, turns with every decision, API backends, limits, access."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from studio.runtime import managers, services
from studio.runtime.models import ApiBinding, ConversationTurn
from studio.skills.models import SampleDialogue

SEARCH = "Find me a flight from Boston to Chicago tomorrow"


def start(api, skill, **body):
    r = api.post(f"/api/skills/{skill.pk}/sessions/", body, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def say(api, session_id, text):
    return api.post(f"/api/sessions/{session_id}/turns/", {"text": text}, format="json")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def test_a_turn_returns_spans_actions_pointers_calls_and_the_response(api, flights_deployed):
    skill, build = flights_deployed
    session = start(api, skill)
    assert session["build"] == build.pk and session["turns"] == []
    r = say(api, session["id"], SEARCH)
    assert r.status_code == 201, r.content
    turn = r.json()
    assert [(s["text"], s["slot_type"]) for s in turn["spans"]] == [
        ("Boston", "city"),
        ("Chicago", "city"),
        ("tomorrow", "date"),
    ]
    for s in turn["spans"]:
        assert SEARCH[s["start"] : s["end"]] == s["text"] and 0 < s["confidence"] <= 1
    names = [a["name"] for a in turn["actions"]]
    assert names[0] == "SearchFlights" and names[-1] == "wait_for_user"
    call = turn["actions"][0]
    assert 0 < call["probability"] <= 1 and call["alternatives"]
    origin = next(g for g in call["arguments"] if g["name"] == "origin")
    assert origin["value"] == "Boston" and origin["entity"] == turn["spans"][0]["entity"]
    assert abs(sum(c["weight"] for c in origin["attention"]) - 1) < 1e-3
    assert {c["entity"] for c in origin["attention"]} >= {s["entity"] for s in turn["spans"][:2]}
    # The mock backend answers every return field from the catalogues (a price is an amount of money).
    [api_call] = turn["api_calls"]
    assert api_call["request"]["origin"] == "Boston" and api_call["request"]["cabin"] == "economy"  # default sent
    assert set(api_call["result"]) == {"flight", "departure_time", "price"} and int(api_call["result"]["price"]) >= 10
    assert api_call["result"]["flight"] in turn["response"]
    # Stored in PostgreSQL, and readable back.
    assert ConversationTurn.objects.get(session_id=session["id"], number=0).result["response"] == turn["response"]
    again = api.get(f"/api/sessions/{session['id']}/").json()
    assert again["turns"][0]["api_calls"] == turn["api_calls"]


def test_a_restarted_process_carries_on_the_conversation(api, flights_deployed):
    """Nothing of the session lives only in memory: drop every cached manager and state, then go on."""
    skill, _ = flights_deployed
    session = start(api, skill)
    first = say(api, session["id"], SEARCH).json()
    managers.clear()  # what a restart of the web process leaves
    managers._encoders.clear()
    r = say(api, session["id"], "Book it for two people")
    assert r.status_code == 201
    turn = r.json()
    confirm = turn["actions"][0]
    assert confirm["name"] == "confirm_booking"
    flight = next(g for g in confirm["arguments"] if g["name"] == "flight")
    # "it" is the flight the first turn found: the context survived the restart.
    assert flight["entity"] == "c1.flight" and flight["value"] == first["api_calls"][0]["result"]["flight"]


def test_sessions_of_other_users_are_invisible(api, flights_deployed, other_user):
    skill, _ = flights_deployed
    session = start(api, skill)
    token, _ = Token.objects.get_or_create(user=other_user)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert other.get(f"/api/sessions/{session['id']}/").status_code == 404
    assert say(other, session["id"], "hello").status_code == 404
    assert other.post(f"/api/skills/{skill.pk}/sessions/", {}, format="json").status_code == 404
    assert APIClient().post(f"/api/sessions/{session['id']}/turns/", {"text": "hi"}, format="json").status_code == 401
    assert ConversationTurn.objects.count() == 0


def test_bad_turns_are_refused_with_the_field_and_reason(api, flights_deployed, settings):
    skill, _ = flights_deployed
    session = start(api, skill)
    for body, reason in (
        ({"text": "   "}, "type what the user says"),
        ({}, "must be a string"),
        ({"text": 42}, "must be a string"),
        ({"text": "x" * (settings.COLLOQUY_MAX_UTTERANCE_CHARS + 1)}, "at most"),
    ):
        r = api.post(f"/api/sessions/{session['id']}/turns/", body, format="json")
        assert r.status_code == 400, body
        [error] = r.json()["errors"]
        assert error["path"] == "text" and reason in error["message"]
    r = api.post(f"/api/sessions/{session['id']}/turns/", "not json", content_type="application/json")
    assert r.status_code == 400
    assert ConversationTurn.objects.count() == 0
    assert (
        api.post("/api/sessions/00000000-0000-0000-0000-000000000000/turns/", {"text": "hi"}, format="json").status_code
        == 404
    )


def test_a_session_needs_a_ready_build_of_the_skill(api, flights_deployed, skill, user):
    flights, build = flights_deployed
    r = api.post(f"/api/skills/{skill.pk}/sessions/", {}, format="json")  # mini skill: nothing deployed
    assert r.status_code == 400 and r.json()["errors"][0]["path"] == "build"
    r = api.post(f"/api/skills/{skill.pk}/sessions/", {"build": build.pk}, format="json")
    assert r.status_code == 400 and "not a build of this skill" in r.json()["errors"][0]["message"]
    build.status = "failed"
    build.save()
    r = api.post(f"/api/skills/{flights.pk}/sessions/", {"build": build.pk}, format="json")
    assert r.status_code == 400 and "only a ready build" in r.json()["errors"][0]["message"]


def test_turns_are_rate_limited_per_token(api, flights_deployed, settings):
    settings.COLLOQUY_RUNTIME_RATE = "3/min"
    skill, _ = flights_deployed
    session = start(api, skill)  # 1
    assert say(api, session["id"], "hello").status_code == 201  # 2
    assert say(api, session["id"], "hello again").status_code == 201  # 3
    r = say(api, session["id"], "and again")
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert ConversationTurn.objects.count() == 2


def test_the_runtime_api_is_in_the_openapi_schema(api):
    schema = api.get("/api/schema/?format=json").json()
    turns = schema["paths"]["/api/sessions/{session_id}/turns/"]["post"]
    ref = turns["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert {"spans", "actions", "api_calls", "response"} <= set(schema["components"]["schemas"][ref]["properties"])
    assert "/api/skills/{skill_id}/sessions/" in schema["paths"]


# ---------------------------------------------------------------- webhooks (the developer's server is the one mock)


class Webhook:
    """A developer's HTTP endpoint on loopback, checking the signature of every call."""

    def __init__(self, secret: str, answer) -> None:
        self.secret, self.answer, self.received = secret, answer, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Colloquy-Timestamp"]
                expected = (
                    "sha256=" + hmac.new(outer.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
                )
                signed = hmac.compare_digest(expected, self.headers["X-Colloquy-Signature"])
                outer.received.append((json.loads(body), signed))
                payload = json.dumps(outer.answer(json.loads(body))).encode()
                self.send_response(200 if signed else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


SECRET = "s3cret-s3cret-s3cret"


def flight_found(body):
    assert body["arguments"]["date"]
    return {"results": {"flight": "XY 123", "departure_time": "07:45", "price": 199}}


def test_a_webhook_gets_signed_calls_and_its_results_are_used(api, flights_deployed, settings):
    settings.COLLOQUY_WEBHOOK_ALLOW_PRIVATE = True  # local development: the hook is on loopback
    skill, _ = flights_deployed
    hook = Webhook(SECRET, flight_found)
    try:
        services.binding_update(
            skill=skill, api="SearchFlights", mode="webhook", url=hook.url, secret=SECRET, timeout=2
        )
        session = start(api, skill)
        turn = say(api, session["id"], SEARCH).json()
    finally:
        hook.close()
    [(body, signed)] = hook.received
    assert signed and body["api"] == "SearchFlights" and body["arguments"]["origin"] == "Boston"
    assert turn["api_calls"][0]["result"]["flight"] == "XY 123" and "XY 123" in turn["response"]


def test_a_webhook_answer_that_breaks_the_contract_is_a_failed_call_shown_with_the_reason(
    api, flights_deployed, settings
):
    settings.COLLOQUY_WEBHOOK_ALLOW_PRIVATE = True
    skill, _ = flights_deployed
    hook = Webhook(SECRET, lambda body: {"results": {"flight": "XY 123"}})
    try:
        services.binding_update(skill=skill, api="SearchFlights", mode="webhook", url=hook.url, secret=SECRET)
        turn = say(api, start(api, skill)["id"], SEARCH).json()
    finally:
        hook.close()
    call = turn["api_calls"][0]
    assert call["result"] is None and "lacks return field" in call["error"]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "http://example.com/hook",
    ],
)
def test_webhook_targets_on_internal_addresses_are_refused(flights_deployed, url):
    skill, _ = flights_deployed
    with pytest.raises(services.SpecValidationError) as err:
        services.binding_update(skill=skill, api="SearchFlights", mode="webhook", url=url, secret=SECRET)
    assert err.value.issues[0].path == "url"
    assert not ApiBinding.objects.exists()


def test_a_binding_allowed_once_is_checked_again_at_every_call(api, flights_deployed, settings):
    """Allowed for local development, then the setting is turned off: the call is refused, not made."""
    settings.COLLOQUY_WEBHOOK_ALLOW_PRIVATE = True
    skill, _ = flights_deployed
    hook = Webhook(SECRET, flight_found)
    try:
        services.binding_update(skill=skill, api="SearchFlights", mode="webhook", url=hook.url, secret=SECRET)
        settings.COLLOQUY_WEBHOOK_ALLOW_PRIVATE = False
        turn = say(api, start(api, skill)["id"], SEARCH).json()
    finally:
        hook.close()
    assert hook.received == [] and turn["api_calls"][0]["error"].startswith("UnsafeWebhookURL")


def test_binding_errors_name_each_field(flights_deployed):
    skill, _ = flights_deployed
    with pytest.raises(services.SpecValidationError) as err:
        services.binding_update(skill=skill, api="SearchFlights", mode="webhook", url="", secret="short", timeout=99)
    assert {i.path for i in err.value.issues} == {"url", "secret", "timeout"}
    with pytest.raises(services.SpecValidationError) as err:
        services.binding_update(skill=skill, api="Nope", mode="mock")
    assert err.value.issues[0].path == "api"


# ---------------------------------------------------------------- corrections saved as samples


def test_a_corrected_conversation_is_saved_as_a_sample_dialogue(api, flights_deployed):
    skill, _ = flights_deployed
    session_id = start(api, skill)["id"]
    first = say(api, session_id, SEARCH).json()
    assert say(api, session_id, "Book it for two people").json()["text"][12:15] == "two"
    turns = list(ConversationTurn.objects.filter(session_id=session_id).order_by("number"))
    # The developer says the second turn should have asked for the cabin first... as a request, unbound.
    services.turn_correct(
        turn=turns[1], spans=[{"start": 12, "end": 15, "slot_type": "number"}], actions=[{"name": "request_date"}]
    )
    session = turns[0].session
    dialogue = services.dialogue_create_from_session(session=session, name="console: search then ask", test=True)
    data = SampleDialogue.objects.get(pk=dialogue.pk).data
    assert data["test"] is True and [t["speaker"] for t in data["turns"]] == ["user", "system", "user", "system"]
    assert data["turns"][0]["spans"][0]["text"] == "Boston"
    assert data["turns"][1]["actions"][0]["name"] == "SearchFlights"
    assert data["turns"][1]["actions"][0]["arguments"]["origin"] == first["spans"][0]["entity"]
    [span] = data["turns"][2]["spans"]
    assert (span["start"], span["end"], span["slot_type"], span["text"]) == (12, 15, "number", "two")
    assert [a["name"] for a in data["turns"][3]["actions"]] == ["request_date"]


def test_a_wrong_correction_is_refused_with_paths_and_nothing_changes(api, flights_deployed):
    skill, _ = flights_deployed
    session_id = start(api, skill)["id"]
    say(api, session_id, SEARCH)
    turn = ConversationTurn.objects.get(session_id=session_id, number=0)
    with pytest.raises(services.SpecValidationError) as err:
        services.turn_correct(
            turn=turn,
            spans=[{"start": 0, "end": 99, "slot_type": "city"}, {"start": 19, "end": 25, "slot_type": "colour"}],
            actions=[
                {"name": "Teleport"},
                {"name": "SearchFlights", "arguments": {"origin": "e99"}},
                {"name": "SearchFlights", "arguments": {"date": "c9.flight"}},
            ],
        )
    paths = {i.path for i in err.value.issues}
    assert paths == {
        "spans[0]",
        "spans[1].slot_type",
        "actions[0].name",
        "actions[1].arguments.origin",
        "actions[2].arguments.date",
    }
    turn.refresh_from_db()
    assert turn.correction is None
    with pytest.raises(services.SpecValidationError):
        services.dialogue_create_from_session(session=turn.session, name=" ")


def test_a_turn_costs_a_handful_of_queries_and_never_reads_the_builds_spec(api, flights_deployed):
    # Throughput over HTTP is bounded by the database round trips of a turn: the token, the session,
    # its row lock with the turn count, the insert, the session's updated_at, the transaction (in a
    # test, savepoints); a turn that calls an API also reads the skill's bindings.
    skill, _ = flights_deployed
    session = start(api, skill)
    assert say(api, session["id"], SEARCH).status_code == 201  # the manager is loaded now
    measured = 0
    for text in ("Book it for two people", "Yes please", "No thanks, that's all"):
        with CaptureQueriesContext(connection) as queries:
            r = say(api, session["id"], text)
        assert r.status_code == 201, r.content
        sql = [q["sql"] for q in queries.captured_queries]
        assert len(sql) <= 7 + (1 if r.json()["api_calls"] else 0), sql
        assert not any('"builds_build"."spec"' in q or '"builds_build"."history"' in q for q in sql), sql
        measured += 1
    assert measured == 3


def test_a_file_rewritten_in_place_after_a_check_is_still_refused(api, flights_deployed):
    # Each process remembers an artifact it has hashed (new sessions do not re-hash it), but
    # only for as long as no file's size or mtime changed: a same-size rewrite is caught.
    skill, build = flights_deployed
    assert say(api, start(api, skill)["id"], SEARCH).status_code == 201  # checked and remembered
    vocab = f"{build.artifact_path}/vocab.json"
    with open(vocab, "r+b") as f:
        first = f.read(1)
        f.seek(0)
        f.write(b" " if first != b" " else b"\t")
    managers.clear()
    r = api.post(f"/api/skills/{skill.pk}/sessions/", {}, format="json")
    assert r.status_code == 409 and "checksum" in r.json()["errors"][0]["message"]


def test_a_damaged_artifact_is_refused_not_served(api, flights_deployed):
    skill, build = flights_deployed
    session = start(api, skill)
    managers.clear()
    with open(f"{build.artifact_path}/vocab.json", "a") as f:
        f.write(" ")  # one byte changed on disk
    r = say(api, session["id"], SEARCH)
    assert r.status_code == 409 and "checksum" in r.json()["errors"][0]["message"]
    assert ConversationTurn.objects.count() == 0


class WebProcess:
    """``gunicorn studio.wsgi`` on the test database: a real web process to kill and start again."""

    def __init__(self, env: dict[str, str], log) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.env, self.log, self.proc = env, log, None

    def start(self) -> None:
        import http.client
        import subprocess
        import sys
        import time
        from pathlib import Path

        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [gunicorn, "studio.wsgi", "-w", "1", "-b", f"127.0.0.1:{self.port}", "--timeout", "120"],
                cwd=Path(__file__).parent.parent,
                env=self.env,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/accounts/login/")
                conn.getresponse().read()
                return
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < deadline, Path(self.log).read_text()[-2000:]
                time.sleep(0.2)

    def kill(self) -> None:
        import os
        import signal

        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def post(self, path: str, body: dict, token: str) -> tuple[int, dict]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        conn.request("POST", path, json.dumps(body), headers)
        r = conn.getresponse()
        return r.status, json.loads(r.read())


def test_a_conversation_survives_killing_the_web_process(transactional_db, user, flights_deployed, tmp_path):
    import os

    from django.db import connection

    skill, _ = flights_deployed
    token, _ = Token.objects.get_or_create(user=user)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "OMP_NUM_THREADS": "1",
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("REDIS_URL", None)
    web = WebProcess(env, tmp_path / "gunicorn.log")
    web.start()
    try:
        status, session = web.post(f"/api/skills/{skill.pk}/sessions/", {}, token.key)
        assert status == 201, session
        status, first = web.post(f"/api/sessions/{session['id']}/turns/", {"text": SEARCH}, token.key)
        assert status == 201 and first["api_calls"], first
        web.kill()  # SIGKILL: nothing is flushed, nothing said goodbye
        web.start()
        status, turn = web.post(f"/api/sessions/{session['id']}/turns/", {"text": "Book it for two people"}, token.key)
    finally:
        web.kill()
    assert status == 201, turn
    assert turn["number"] == 1 and turn["actions"][0]["name"] == "confirm_booking"
    flight = next(g for g in turn["actions"][0]["arguments"] if g["name"] == "flight")
    assert flight["entity"] == "c1.flight" and flight["value"] == first["api_calls"][0]["result"]["flight"]


def test_a_slow_turn_does_not_hold_up_other_sessions_of_the_same_build(
    transactional_db, user, flights_deployed, settings
):
    """A turn locks its session's row only: another conversation with the same build goes on meanwhile
    (locking the joined build row as well serialised them, and deadlocked under load)."""
    import time

    settings.COLLOQUY_WEBHOOK_ALLOW_PRIVATE = True
    skill, _ = flights_deployed
    token, _ = Token.objects.get_or_create(user=user)

    def client():
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return c

    def slow(body):
        time.sleep(3)
        return flight_found(body)

    hook = Webhook(SECRET, slow)
    try:
        services.binding_update(
            skill=skill, api="SearchFlights", mode="webhook", url=hook.url, secret=SECRET, timeout=10
        )
        a, b = start(client(), skill)["id"], start(client(), skill)["id"]
        say(client(), b, "hello")  # the manager is loaded before timing

        def turn_a():
            from django.db import connection

            try:
                say(client(), a, SEARCH)
            finally:
                connection.close()  # this thread's own connection

        slow_turn = threading.Thread(target=turn_a)
        slow_turn.start()
        while not hook.received:  # session a's turn is inside its transaction, waiting on the webhook
            time.sleep(0.05)
        started = time.monotonic()
        r = say(client(), b, "Hi there")
        seconds = time.monotonic() - started
        slow_turn.join()
    finally:
        hook.close()
    assert r.status_code == 201 and seconds < 2, seconds
    assert ConversationTurn.objects.filter(session_id=a).count() == 1
