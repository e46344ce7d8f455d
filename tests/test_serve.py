"""`mahrem serve`: the official `openai` client against a real server on 127.0.0.1, with two real
signed bundles on the tiny model. Answers must equal `generate()`'s; refusals happen before listening."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest

from pipeline.config import ConfigError
from pipeline.io import InputError
from pipeline.keys import load_signing_key
from pipeline.release import ReleaseRefused
from pipeline.release.generate import Completion, Request, generate
from pipeline.release.serve import ChatServer, ChatService, build_output_guard, open_server
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


def test_the_log_has_one_line_per_request_and_no_content(client, caplog):
    secret = "GIZLI-ZEYTIN-4711"
    with caplog.at_level(logging.INFO, logger="mahrem.serve"):
        response = _ask(client, "second", content=f"Benim kodum {secret}, lütfen hatırla.")
        with pytest.raises(openai.NotFoundError):
            _ask(client, f"model-{secret}")
        with pytest.raises(openai.BadRequestError):
            _ask(client, "first", content=secret, stop=[secret])
    lines = [r.getMessage() for r in caplog.records if r.name == "mahrem.serve"]
    assert len(lines) == 3
    assert secret not in caplog.text
    answer = response.choices[0].message.content
    assert len(answer.strip()) < 4 or answer not in caplog.text
    ok = lines[0]
    assert f"id={response.id} " in ok and "model=second status=200" in ok
    assert f"prompt_tokens={response.usage.prompt_tokens} completion_tokens={response.usage.completion_tokens}" in ok
    assert "latency_ms=" in ok
    assert "model=- status=404" in lines[1] and "status=400" in lines[2]


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
