"""The HTTP layer's limits, in process against misbehaving loopback servers: body caps (after decoding, so gzip
bombs stay small), redirect count and the per-check deadline."""

from __future__ import annotations

import json
import tracemalloc
import zlib

import pytest

from regauth import deadline
from regauth.http import BODY_CAP, MAX_REDIRECTS, SMALL_CAP, TRACE_BODY_CAP, Http, TransportConfig, TransportError
from tests.support import badservers as bad

GIB = 1 << 30
MIB = 1 << 20


@pytest.fixture
def serve():
    servers: list[bad.BadServer] = []

    def start(handler) -> bad.BadServer:
        server = bad.BadServer(handler).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
        assert not server.threads_alive


@pytest.fixture
def http():
    client = Http(TransportConfig(plain_http=True, timeout=2.0))
    yield client
    client.close()


def test_gzip_bomb_is_capped_after_decoding_without_allocating_it(serve, http):
    server = serve(bad.gzip_bomb(decoded=GIB))
    tracemalloc.start()
    try:
        resp = http.request("GET", server.url + "/v2/x/manifests/1", cap=BODY_CAP)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resp.status == 200 and resp.truncated
    assert len(resp.body) == BODY_CAP and resp.body == b"\0" * BODY_CAP
    assert peak < 64 * MIB, f"decoding allocated {peak} bytes"
    assert resp.exchanges[-1].truncated


def test_gigabyte_body_is_read_up_to_the_cap_and_never_further(serve, http):
    server = serve(bad.huge_body(GIB))
    resp = http.request("GET", server.url + "/v2/", cap=SMALL_CAP)
    assert resp.truncated and len(resp.body) == SMALL_CAP
    server.stop()
    assert server.sent_bytes < 64 * MIB  # the server streamed lazily and regauth hung up


@pytest.mark.parametrize("encoding, compress", [
    ("gzip", lambda d: bad.gzip_body(d)),
    ("deflate", zlib.compress),
    ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send it
])
def test_compressed_bodies_are_decoded(serve, http, encoding, compress):
    payload = json.dumps({"schemaVersion": 2, "pad": "x" * 5000}).encode()
    server = serve(bad.respond(200, {"Content-Encoding": encoding}, compress(payload), "application/json"))
    resp = http.request("GET", server.url + "/v2/")
    assert resp.body == payload and not resp.truncated


def test_corrupt_gzip_keeps_the_raw_bytes(serve, http):
    server = serve(bad.respond(200, {"Content-Encoding": "gzip"}, b"\x1f\x8b\x08garbage", "application/json"))
    resp = http.request("GET", server.url + "/v2/")
    assert resp.status == 200 and resp.body.startswith(b"\x1f\x8b")


def test_redirects_stop_after_the_limit(serve, http):
    server = serve(bad.redirect_loop())
    with pytest.raises(TransportError) as caught:
        http.request("GET", server.url + "/v2/")
    assert caught.value.kind == "redirect-loop"
    assert len(server.requests) == MAX_REDIRECTS + 1
    assert len(caught.value.exchanges) == MAX_REDIRECTS + 1


def test_reset_in_the_middle_of_a_body_is_a_reset(serve, http):
    server = serve(bad.reset_mid_body())
    with pytest.raises(TransportError) as caught:
        http.request("GET", server.url + "/v2/")
    assert caught.value.kind == "reset"
    assert caught.value.exchanges[-1].status == 200 and caught.value.exchanges[-1].error.startswith("reset")


def test_stalled_body_times_out(serve):
    server = serve(bad.stall_body())
    client = Http(TransportConfig(plain_http=True, timeout=0.5))
    try:
        with pytest.raises(TransportError) as caught:
            client.request("GET", server.url + "/v2/")
    finally:
        client.close()
    assert caught.value.kind == "timeout"


def test_dripping_body_ends_at_the_deadline(serve):
    """Each read gets a byte before --timeout: only the check's deadline can end it."""
    server = serve(bad.drip(0.1))
    client = Http(TransportConfig(plain_http=True, timeout=1.0))
    try:
        with deadline.limit(1.5), pytest.raises(TransportError) as caught:
            client.request("GET", server.url + "/v2/x/manifests/1", cap=BODY_CAP)
    finally:
        client.close()
    assert caught.value.kind == "deadline"
    assert "deadline of 1.5 s" in caught.value.detail


def test_stall_before_headers_past_the_deadline_is_the_deadline(serve):
    server = serve(bad.stall_headers())
    client = Http(TransportConfig(plain_http=True, timeout=30.0))
    try:
        with deadline.limit(0.5), pytest.raises(TransportError) as caught:
            client.request("GET", server.url + "/v2/")
    finally:
        client.close()
    assert caught.value.kind == "deadline"


def test_no_request_is_sent_once_the_deadline_has_passed(serve, http):
    server = serve(bad.registry_ping())
    with deadline.limit(0), pytest.raises(TransportError) as caught:
        http.request("GET", server.url + "/v2/")
    assert caught.value.kind == "deadline"
    assert server.requests == []


def test_nested_limits_keep_the_earlier_end():
    with deadline.limit(0.5):
        with deadline.limit(100):
            assert deadline.remaining() <= 0.5
        assert deadline.total() == 0.5
    assert deadline.remaining() is None


@pytest.fixture
def traced():
    """An Http that records every exchange in full, as --trace and --trace-file do."""
    seen: list = []
    client = Http(TransportConfig(plain_http=True, timeout=2.0), on_exchange=seen.append)
    yield client, seen
    client.close()


def test_headers_and_bodies_are_recorded_only_for_a_trace(serve, http, traced):
    server = serve(bad.respond(200, {"X-Answer": "42"}, b'{"a": 1}', "application/json"))
    lean = http.request("GET", server.url + "/v2/").exchanges[-1]
    assert (lean.status, lean.request_headers, lean.response_headers, lean.response_body) == (200, [], [], None)
    client, seen = traced
    full = client.request("GET", server.url + "/v2/").exchanges[-1]
    assert seen == [full]
    assert ("x-answer", "42") in [(k.lower(), v) for k, v in full.response_headers]
    assert full.response_body == '{"a": 1}' and full.request_headers


def test_trace_body_is_redacted_before_it_is_cut(serve, traced):
    """A secret past the trace cap of a JSON body must not survive as a cut, unparseable fragment."""
    http = traced[0]
    # cut first (as before), the first 30 characters of the token would have been shown
    body = json.dumps({"pad": "x" * (TRACE_BODY_CAP - 60), "refresh_token": "rt-" + "s3cr3t" * 10}).encode()
    server = serve(bad.respond(200, {}, body, "application/json"))
    resp = http.request("GET", server.url + "/token")
    recorded = resp.exchanges[-1].response_body
    assert "s3cr3t" not in recorded and "<redacted sha256:" in recorded
    assert resp.exchanges[-1].response_size == len(body)


def test_binary_bodies_are_not_dumped_into_the_trace(serve, traced):
    http = traced[0]
    server = serve(bad.respond(200, {}, b"\0\1\2" * 100, "application/octet-stream"))
    resp = http.request("GET", server.url + "/v2/x/blobs/sha256:0")
    assert resp.exchanges[-1].response_body == "(300 bytes of binary data)"
