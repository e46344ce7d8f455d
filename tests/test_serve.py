"""`mahrem serve`: the official `openai` client against a real server on 127.0.0.1, with two real
signed bundles on the tiny model. Answers must equal `generate()`'s; refusals happen before listening."""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from pathlib import Path

import httpx
import openai
import pytest

from pipeline.config import ConfigError
from pipeline.io import InputError
from pipeline.keys import load_signing_key
from pipeline.release import ReleaseRefused
from pipeline.release.generate import Completion, Request, generate
from pipeline.release.serve import MAX_BODY_BYTES, ChatServer, ChatService, build_output_guard, open_server
from test_evaluate_helpers import PLANTED_TCKN, TEST_KEY
from test_release_helpers import signed_bundle

REPO = Path(__file__).resolve().parents[1]
PSEUDONYM_KEY = "5de0d946a34ba9ed576f6b91f18625c8c1cb6452f9dae7af28d9312c540a5e5c"
TCKN = "10000000146"  # a valid T.C. Kimlik No checksum
EMAIL = "ayse.kaya@ornekmail.com"
PROMPT = "Merhaba, kartım çalındı."
MAX_TOKENS = 8


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, tiny_model_dir):
    """Two bundles from "two runs" (different adapter weights), one signing key."""
    root = tmp_path_factory.mktemp("serve")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MAHREM_SIGNING_KEY", raising=False)
        key = load_signing_key(root / "keys", quiet=True)
    _, first = signed_bundle(root / "a", tiny_model_dir, key, seed=0)
    _, second = signed_bundle(root / "b", tiny_model_dir, key, seed=1)
    return first.bundle, second.bundle, root / "keys/signing.pub.pem"


@pytest.fixture(scope="module")
def server(bundles, tiny_model_dir):
    first, second, public = bundles
    srv = open_server({"first": first, "second": second}, public, tiny_model_dir, port=0, dtype="float32",
                      max_tokens=32)  # the device generate() picks too: CUDA where there is one
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def expected(bundles, tiny_model_dir):
    """What `generate()` answers for PROMPT under each model: greedy, the same base and bundles."""
    first, second, public = bundles
    out = generate([Request(PROMPT, "first"), Request(PROMPT, "second"), Request(PROMPT, None)],
                   {"first": first, "second": second}, public, tiny_model_dir, max_new_tokens=MAX_TOKENS,
                   dtype="float32")
    return dict(zip(["first", "second", "base"], out))


def _ask(client, model, content=PROMPT, **kwargs):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}],
                                          max_tokens=MAX_TOKENS, **kwargs)


def test_models_lists_the_base_and_every_adapter(client, bundles):
    listed = client.models.list()
    assert [m.id for m in listed.data] == ["base", "first", "second"]
    assert all(m.object == "model" and m.owned_by == "mahrem" for m in listed.data)
    first = client.models.retrieve("first")
    assert first.mahrem["kind"] == "adapter" and first.mahrem["bundle"] == "mahrem-smollm2-135m-support-0.1.0"
    assert first.mahrem["warnings"] == [] and client.models.retrieve("base").mahrem["kind"] == "base"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("third")


def test_each_adapter_answers_as_generate_does(client, expected):
    answers = {}
    for model in ("first", "second", "base"):
        response = _ask(client, model, temperature=0)
        assert response.object == "chat.completion" and response.model == model
        (choice,) = response.choices
        assert choice.message.role == "assistant" and choice.finish_reason in ("stop", "length")
        usage = response.usage
        assert 0 < usage.completion_tokens <= MAX_TOKENS and usage.prompt_tokens > 0
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
        if choice.finish_reason == "length":
            assert usage.completion_tokens == MAX_TOKENS
        answers[model] = choice.message.content
    assert answers == expected  # temperature 0 is greedy, and each name is its adapter
    assert len(set(answers.values())) == 3  # each adapter really changes the model
    assert _ask(client, "first").choices[0].message.content == expected["first"]  # absent temperature: greedy too


def test_the_whole_conversation_goes_through_the_chat_template(client, tiny_model_dir):
    from transformers import AutoTokenizer

    messages = [{"role": "system", "content": "Kısa yanıt ver."}, {"role": "user", "content": "Merhaba"},
                {"role": "assistant", "content": "Merhaba!"},
                {"role": "user", "content": [{"type": "text", "text": "Kargom nerede?"}]}]
    response = client.chat.completions.create(model="second", messages=messages, max_completion_tokens=3)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = tok.apply_chat_template(messages[:3] + [{"role": "user", "content": "Kargom nerede?"}], tokenize=False,
                                   add_generation_prompt=True)
    assert response.usage.prompt_tokens == len(tok(text)["input_ids"])
    assert response.usage.completion_tokens <= 3


def test_sampling_with_a_seed_repeats(client):
    one = _ask(client, "first", temperature=1.5, seed=7).choices[0].message.content
    assert _ask(client, "first", temperature=1.5, seed=7).choices[0].message.content == one


def test_unknown_model_is_a_404_naming_the_available_ones(client):
    with pytest.raises(openai.NotFoundError) as caught:
        _ask(client, "third")
    error = caught.value.body
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "base, first, second" in error["message"]


@pytest.mark.parametrize(("kwargs", "param", "words"), [
    ({"stream": True}, "stream", "streaming is not supported"),
    ({"n": 2}, "n", "n must be 1"),
    ({"stop": ["x"]}, "stop", "stop is not supported"),
    ({"max_tokens": 33}, "max_tokens", "limit of 32"),
    ({"extra_body": {"tools": []}}, "tools", "tools: not supported"),
    ({"temperature": 3}, "temperature", "temperature"),
])
def test_bad_requests_are_400s_in_the_openai_shape(client, kwargs, param, words):
    kwargs = {"max_tokens": MAX_TOKENS, **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="first", messages=[{"role": "user", "content": "hi"}], **kwargs)
    error = caught.value.body
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == param
    assert words in error["message"]


def test_raw_http_errors(server):
    with httpx.Client(base_url=server.url.removesuffix("/v1"), timeout=60) as http:
        bad_json = http.post("/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"})
        assert bad_json.status_code == 400 and bad_json.json()["error"]["type"] == "invalid_request_error"
        not_an_object = http.post("/v1/chat/completions", json=[1])
        assert not_an_object.status_code == 400 and "body: " in not_an_object.json()["error"]["message"]
        no_messages = http.post("/v1/chat/completions", json={"model": "first", "messages": []})
        assert no_messages.status_code == 400 and no_messages.json()["error"]["param"] == "messages"
        tool_role = http.post("/v1/chat/completions", json={"model": "first", "messages": [{"role": "tool", "content": "x"}]})
        assert tool_role.status_code == 400
        wrong_method = http.get("/v1/chat/completions")
        assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
        assert http.get("/v1/completions").status_code == 404
        assert http.get("/v1/models").headers["Content-Type"] == "application/json"


def test_too_long_for_the_context_window_is_a_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        _ask(client, "first", content="Merhaba " * 200)
    assert caught.value.body["code"] == "context_length_exceeded"


def test_concurrent_requests_to_different_adapters_keep_their_answers(server, expected):
    def ask(model):
        own = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=120)
        return model, _ask(own, model).choices[0].message.content

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(ask, ["first", "second", "base", "second", "first", "base"]))
    assert all(answer == expected[model] for model, answer in results)


def test_the_log_has_one_line_per_request_and_no_content(server, client, caplog, monkeypatch):
    secret = "GIZLI-ZEYTIN-4711"
    # The tiny model's answers are short and arbitrary; a planted long answer makes "not in the log" mean something.
    planted = "Siparişiniz GIZLI-CEVAP-5820 numarasıyla yarın teslim edilecek, iyi günler dileriz."
    with caplog.at_level(logging.INFO, logger="mahrem.serve"):
        response = _ask(client, "second", content=f"Benim kodum {secret}, lütfen hatırla.")
        with pytest.raises(openai.NotFoundError):
            _ask(client, f"model-{secret}")
        with pytest.raises(openai.BadRequestError):
            _ask(client, "first", content=secret, stop=[secret])
        with monkeypatch.context() as m:
            m.setattr(server.service.models, "generate", lambda *a, **k: Completion(planted, 11, 17, "stop"))
            answered = _ask(client, "first", content=secret)
    assert answered.choices[0].message.content == planted  # it did go out, over the real HTTP path
    lines = [r.getMessage() for r in caplog.records if r.name == "mahrem.serve"]
    assert len(lines) == 4
    assert secret not in caplog.text
    assert "GIZLI-CEVAP" not in caplog.text and "teslim" not in caplog.text
    ok = lines[0]
    assert f"id={response.id} " in ok and "model=second status=200" in ok
    assert f"prompt_tokens={response.usage.prompt_tokens} completion_tokens={response.usage.completion_tokens}" in ok
    assert "latency_ms=" in ok
    assert "model=- status=404" in lines[1] and "status=400" in lines[2]
    assert "model=first status=200 prompt_tokens=11 completion_tokens=17" in lines[3]


# --- refusals at the HTTP level: body length, queue, Host, Content-Type --------------------------

CHAT_BODY = json.dumps({"model": "first", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})


def _raw_post(server, headers, body: bytes = b"", path: str = "/v1/chat/completions"):
    """A POST with exactly these headers (a dict or (name, value) pairs; http.client adds Host only)."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for key, value in headers.items() if isinstance(headers, dict) else headers:
            conn.putheader(key, value)
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.parametrize("length", ["-1", "-4194305", "abc", "1e3", "+5", "", "5, 5", ("2", "-1")])
def test_a_negative_or_malformed_content_length_is_a_400(server, length):
    headers = [("Content-Type", "application/json"),
               *(("Content-Length", v) for v in ((length,) if isinstance(length, str) else length) if v)]
    status, _, body = _raw_post(server, headers, b"{}")
    assert status == 400, (length, body)
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == "invalid_content_length" and "Content-Length" in body["error"]["message"]


def test_a_body_over_the_limit_is_a_413_without_being_read(server):
    status, _, body = _raw_post(server, {"Content-Type": "application/json", "Content-Length": str(MAX_BODY_BYTES + 1)})
    assert status == 413 and body["error"]["code"] == "request_too_large"


def test_a_full_queue_is_a_503_with_retry_after(server, monkeypatch):
    service = ChatService(server.service.models, max_pending=1)  # the real models, a queue of one
    monkeypatch.setattr(server, "service", service)
    base_url = server.url.removesuffix("/v1")
    with ThreadPoolExecutor(1) as pool, httpx.Client(base_url=base_url, timeout=120) as http:
        with service.lock:  # a generation in progress
            first = pool.submit(http.post, "/v1/chat/completions", content=CHAT_BODY,
                                headers={"Content-Type": "application/json"})
            deadline = time.monotonic() + 60
            while service.pending < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert service.pending == 1  # the first request waits for the lock, holding the only place
            second = http.post("/v1/chat/completions", content=CHAT_BODY, headers={"Content-Type": "application/json"})
            assert second.status_code == 503 and second.headers["Retry-After"] == "1"
            error = second.json()["error"]
            assert set(error) == {"message", "type", "param", "code"}
            assert error["code"] == "server_busy" and error["type"] == "server_error" and "--max-pending" in error["message"]
            assert http.get("/v1/models").status_code == 200  # the model list never queues
        assert first.result(timeout=120).status_code == 200
    assert service.pending == 0
    with pytest.raises(ConfigError, match="--max-pending 0"):
        ChatService(server.service.models, max_pending=0)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io:{port}", "localhost.evil:{port}"])
def test_a_foreign_host_header_is_a_403(server, host):
    """DNS rebinding: a page on another site, its name now resolving to 127.0.0.1, sends its own name as Host."""
    host = host.format(port=server.server_address[1])
    with httpx.Client(base_url=server.url.removesuffix("/v1"), timeout=60) as http:
        for response in (http.get("/v1/models", headers={"Host": host}),
                         http.post("/v1/chat/completions", content=CHAT_BODY,
                                   headers={"Host": host, "Content-Type": "application/json"})):
            assert response.status_code == 403, host
            error = response.json()["error"]
            assert error["code"] == "host_not_allowed" and set(error) == {"message", "type", "param", "code"}


def test_local_host_names_are_accepted(server):
    port = server.server_address[1]
    with httpx.Client(base_url=server.url.removesuffix("/v1"), timeout=60) as http:
        for host in (f"localhost:{port}", "LOCALHOST", f"127.0.0.1:{port}", f"[::1]:{port}"):
            assert http.get("/v1/models", headers={"Host": host}).status_code == 200, host
    assert ChatServer.host_allowed(SimpleNamespace(host="192.168.7.20"), "192.168.7.20")  # the --host address
    assert not ChatServer.host_allowed(SimpleNamespace(host="192.168.7.20"), "192.168.7.21")
    assert ChatServer.host_allowed(SimpleNamespace(host="0.0.0.0"), "10.1.2.3")  # wildcard: any IP literal ...
    assert not ChatServer.host_allowed(SimpleNamespace(host="0.0.0.0"), "attacker.example")  # ... never a name


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_post_that_is_not_json_is_a_415(server, content_type):
    """What a cross-site HTML form can send without a CORS preflight — refused before the body is read."""
    headers = {"Content-Length": str(len(CHAT_BODY))}
    if content_type:
        headers["Content-Type"] = content_type
    status, _, body = _raw_post(server, headers, CHAT_BODY.encode())
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    ok, _, _ = _raw_post(server, {"Content-Type": "application/json; charset=utf-8",
                                  "Content-Length": str(len(CHAT_BODY))}, CHAT_BODY.encode())
    assert ok == 200


@pytest.fixture(scope="module")
def guard(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAHREM_PSEUDONYM_KEY", PSEUDONYM_KEY)
        mp.chdir(tmp_path_factory.mktemp("guard"))  # no params.yaml here: the packaged KVKK policy, as `redact` does
        return build_output_guard()


def test_the_output_guard_removes_personal_data(guard):
    text = f"Müşteriye {EMAIL} adresinden yazın.\nT.C. Kimlik No {TCKN} ile kayıtlı.\nKargonuz yolda."
    out = guard(text)
    assert EMAIL not in out and "ornekmail" not in out and TCKN not in out
    assert out.count("\n") == 2 and out.startswith("Müşteriye ")  # line by line: the answer keeps its shape


def test_redact_output_over_http(server, client, guard, monkeypatch):
    """The model is replaced by a fixed answer holding personal data (the tiny model writes none);
    the service, the guard and the HTTP path are the real ones."""
    service = server.service
    leaky = f"E-posta: {EMAIL}, TC {TCKN}"
    monkeypatch.setattr(service, "guard", guard)
    monkeypatch.setattr(service.models, "generate", lambda *a, **k: Completion(leaky, 5, 9, "stop"))
    response = _ask(client, "first")
    content = response.choices[0].message.content
    assert EMAIL not in content and TCKN not in content and content.startswith("E-posta: ")
    assert response.usage.completion_tokens == 9
    assert client.models.retrieve("first").mahrem["redact_output"] is True


def test_erasure_warnings_hook_reaches_the_models_list(server):
    service = ChatService(server.service.models, warnings_for=lambda bundle: [f"erasure pending for {bundle.name}"])
    entries = {e["id"]: e["mahrem"] for e in service.list_models()["data"]}
    assert entries["first"]["warnings"] == [f"erasure pending for {service.models.bundles['first'].path.name}"]
    assert entries["base"]["warnings"] == []


def test_models_list_shows_the_erasure_mark_of_a_released_version(bundles, tiny_model_dir, tmp_path):
    """A registry release, then `forget`'s own marking step (mark_erasure over the controller's holdings
    that signoff wrote): the served adapter carries the warning in /v1/models."""
    from pipeline import entities as E
    from pipeline.fingerprint import fingerprint
    from pipeline.release import release_bundle
    from pipeline.release.holdings import mark_erasure

    first, _, public = bundles
    holdings = first.parents[1] / ".mahrem/holdings"  # signed_bundle's repo/release/<bundle> → repo/.mahrem/holdings
    registry = tmp_path / "registry"
    target = release_bundle(first, registry, public, holdings_dir=holdings, erasure_file=tmp_path / "none.yaml")
    hits = mark_erasure({fingerprint(TEST_KEY, E.TR_NATIONAL_ID, PLANTED_TCKN)}, TEST_KEY.key_id, "DSR-3107",
                        [registry], holdings)
    assert [h.version for h in hits if h.held] == [target.name]  # the release does hold the value
    srv = open_server({"support": target}, public, tiny_model_dir, port=0, dtype="float32", max_tokens=4)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        own = openai.OpenAI(base_url=srv.url, api_key="unused", max_retries=0, timeout=120)
        entries = {m.id: m.mahrem for m in own.models.list().data}
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)
    [warning] = entries["support"]["warnings"]
    assert f"{target.name} holds data that erasure request DSR-3107" in warning and "withdraw this one" in warning
    assert PLANTED_TCKN not in json.dumps(entries)
    assert entries["base"]["warnings"] == []


def test_base_name_may_not_shadow_an_adapter(server):
    with pytest.raises(ConfigError, match="--base-name 'first'"):
        ChatService(server.service.models, base_name="first")


def test_a_busy_port_is_refused_with_the_option_named(server):
    with pytest.raises(InputError, match=f"--port {server.server_address[1]}"):
        ChatServer("127.0.0.1", server.server_address[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_tampered_bundle_is_refused_before_listening(bundles, tiny_model_dir, tmp_path):
    first, second, public = bundles
    tampered = tmp_path / first.name
    shutil.copytree(first, tampered)
    config = json.loads((tampered / "adapter_config.json").read_text())
    config["r"] = 8
    (tampered / "adapter_config.json").write_text(json.dumps(config))
    port = _free_port()
    with pytest.raises(ReleaseRefused, match="does not verify"):
        open_server({"ok": second, "bad": tampered}, public, tiny_model_dir, port=port)
    with socket.socket() as probe:  # nothing listens, and the port is free again
        assert probe.connect_ex(("127.0.0.1", port)) != 0
        probe.bind(("127.0.0.1", port))
    # The command: exit 1, the problems listed, no traceback — and it never starts serving.
    env = {**os.environ, "MAHREM_PSEUDONYM_KEY": PSEUDONYM_KEY}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "serve", "--adapter", f"bad={tampered}", "--public-key", str(public),
         "--base", str(tiny_model_dir), "--port", str(port)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "does not verify" in result.stderr and "adapter_config.json" in result.stderr
    assert "Traceback" not in result.stderr and "serve: http" not in result.stderr


def test_a_failure_inside_generation_is_a_500_and_logs_its_type_only(server, client, caplog, monkeypatch):
    secret = "GIZLI-HATA-9931"

    def broken(*args, **kwargs):
        raise RuntimeError(f"an error that quotes the prompt: {secret}")

    monkeypatch.setattr(server.service.models, "generate", broken)
    with caplog.at_level(logging.INFO, logger="mahrem.serve"), pytest.raises(openai.InternalServerError) as caught:
        _ask(client, "first", content=secret)
    assert caught.value.body["type"] == "server_error" and secret not in str(caught.value.body)
    assert "RuntimeError" in caplog.text and "status=500" in caplog.text and secret not in caplog.text
    assert client.models.list().data  # the server goes on


def test_the_adapters_bench_runs_on_the_tiny_model(tmp_path):
    """bench/adapters.py (issue #17's serving figures) end to end, tiny sizes: it starts and writes its report."""
    out = tmp_path / "adapters.json"
    done = subprocess.run(
        [sys.executable, "bench/adapters.py", "--tiny", "--requests", "2", "--reps", "2", "--blocks", "1",
         "--threads", "1", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["base"].startswith("TINY") and report["adapters"]["target_modules"] == "all-linear"
    assert report["switch"]["same_adapter_s"]["n"] == report["switch"]["alternating_s"]["n"] == 4
    assert report["served"]["requests_per_mode"] == 2 and report["served"]["mixed_vs_single"] > 0
    assert 0 < report["size"]["adapter_vs_base"] and "per switch" in done.stdout
