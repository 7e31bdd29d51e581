"""The embedded broker (``colloquyfs://``, no Redis): messages are never read half-written."""

import multiprocessing
import os
from queue import Empty

import pytest
from kombu import Connection

from studio import broker

broker.register()


def _options(folder):
    queue = folder / "queue"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        "polling_interval": 0.01,
    }


def _put_many(folder: str, writer: int, n: int) -> None:
    from pathlib import Path

    broker.register()
    with Connection(broker.URL, transport_options=_options(Path(folder))) as conn:
        q = conn.SimpleQueue("cpu")
        for i in range(n):
            q.put({"writer": writer, "i": i, "pad": "x" * 20_000})  # big enough to be written in pieces
        q.close()


def test_a_message_is_invisible_to_the_reader_until_it_is_complete(tmp_path, monkeypatch):
    # The channel's own put and get (kombu keeps exchange routing per process: going through it
    # here would depend on what other tests of this process declared).
    options = _options(tmp_path)
    with Connection(broker.URL, transport_options=options) as w, Connection(broker.URL, transport_options=options) as r:
        writer, reader = w.default_channel, r.default_channel
        assert isinstance(writer, broker.Channel)
        during: list[str] = []
        real_replace = os.replace

        def replace(src, dst):  # the moment between writing the message and publishing it
            assert src.endswith(".cpu.msg.part") and os.path.getsize(src) > 0 and not os.path.exists(dst)
            try:
                reader._get("cpu")
                during.append("taken")
            except Empty:
                during.append("nothing")
            real_replace(src, dst)

        monkeypatch.setattr(os, "replace", replace)
        writer._put("cpu", {"hello": "world"})
        assert during == ["nothing"]
        assert not any(n.endswith(".part") for n in os.listdir(tmp_path / "queue"))
        assert reader._get("cpu") == {"hello": "world"}
        with pytest.raises(Empty):
            reader._get("cpu")


def test_writers_in_other_processes_never_hand_the_reader_a_partial_message(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_put_many, args=(str(tmp_path), w, 150)) for w in range(2)]
    for p in writers:
        p.start()
    seen: dict[int, set[int]] = {0: set(), 1: set()}
    with Connection(broker.URL, transport_options=_options(tmp_path)) as conn:
        q = conn.SimpleQueue("cpu")
        while sum(len(s) for s in seen.values()) < 300:
            try:
                m = q.get(block=True, timeout=30)  # a partial file would raise JSONDecodeError here
            except Empty:
                pytest.fail(f"messages lost: {[len(s) for s in seen.values()]} of 150 each")
            seen[m.payload["writer"]].add(m.payload["i"])
            assert len(m.payload["pad"]) == 20_000
            m.ack()
        q.close()
    for p in writers:
        p.join(30)
        assert p.exitcode == 0
    assert seen == {0: set(range(150)), 1: set(range(150))}
