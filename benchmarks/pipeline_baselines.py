"""The framework's ceiling on the same broker: a bare faust agent (consume -> send) and a bare
confluent-kafka consume -> produce loop, each a child process, over two scratch topics of the
pipeline's partition count and records of the pipeline's mean inbound record size.

Each is measured like the pipeline: hop latency (input record timestamp -> output visible) at
100 and 500 records/s, then throughput (records/s) through `--records` produced at once. Both
produce with acks=all, idempotence and the producer linger the worker uses (streams/app.py),
under uvloop for faust, as the worker runs. `python -m benchmarks.pipeline_baselines faust|loop`
is the child's entry point (configured by environment variables).
"""
from __future__ import annotations

import os
import sys
import threading
import time
import uuid

from switchboard.harness import REPO, WorkerProcess

PARTITIONS = 6           # as inbound-messages and conversation-inputs
READY = "baseline ready"
WAIT_S = 0.05           # the wait for a first record (switchboard.kafka.consume_available)


def _faust_child() -> None:
    import faust
    import mode.loop

    mode.loop.use("uvloop")
    from streams.app import app as worker_app

    app = faust.App(f"bench-faust-{os.environ['BASELINE_RUN']}", broker=f"kafka://{os.environ['BASELINE_BOOTSTRAP']}",
                    web_enabled=False, store="memory://", producer_acks=-1, topic_allow_declare=False,
                    producer_linger=worker_app.conf.producer_linger, consumer_auto_offset_reset="earliest",
                    datadir=os.environ["BASELINE_DIR"])
    raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw",
           "partitions": PARTITIONS, "internal": False}
    source, out = app.topic(os.environ["BASELINE_IN"], **raw), app.topic(os.environ["BASELINE_OUT"], **raw)

    @app.agent(source)
    async def forward(stream):
        async for event in stream.events():
            await out.send(key=event.key, value=event.value)

    async def ready(sender=None, **kwargs):
        print(READY, file=sys.stderr, flush=True)

    app.on_rebalance_complete.connect(ready)

    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()


def _loop_child() -> None:
    from switchboard.kafka import PRODUCER_DEFAULTS, consume_available, consumer, producer

    conf = {"bootstrap.servers": os.environ["BASELINE_BOOTSTRAP"]}
    out, c = producer(conf, **{"linger.ms": PRODUCER_DEFAULTS["linger.ms"]}), consumer(
        conf, f"bench-loop-{os.environ['BASELINE_RUN']}", **{"fetch.wait.max.ms": 5})
    c.subscribe([os.environ["BASELINE_IN"]], on_assign=lambda *_: print(READY, file=sys.stderr, flush=True))
    target, done = os.environ["BASELINE_OUT"], 0
    while True:
        batch = consume_available(c, 500, WAIT_S)
        for msg in batch:
            if msg.error() is None:
                out.produce(target, key=msg.key(), value=msg.value())
        out.poll(0)
        done += len(batch)
        if batch:   # what a real stage does: commit after its outputs are acknowledged
            out.flush(10)
            c.commit(asynchronous=True)


class Reader:
    """Reads the output topic from its end on a thread; notes when each record became visible."""

    def __init__(self, bootstrap: str, name: str):
        from confluent_kafka import TopicPartition

        from switchboard.kafka import consume_available, consumer

        self.consume, self.c = consume_available, consumer({"bootstrap.servers": bootstrap}, f"bench-read-{uuid.uuid4().hex[:8]}",
                          **{"fetch.wait.max.ms": 5})
        self.c.assign([TopicPartition(name, p, self.c.get_watermark_offsets(TopicPartition(name, p), timeout=10)[1])
                       for p in range(PARTITIONS)])
        self.seen: list[tuple[float, float]] = []   # (visible at, input record timestamp)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            for msg in self.consume(self.c, 1000, WAIT_S):
                if msg.error() is None:
                    self.seen.append((time.time(), float(msg.key().decode())))
        self.c.close()

    def wait(self, n: int, timeout: float) -> float:
        """Until `n` records were seen (or the timeout); the time of the last one."""
        deadline = time.monotonic() + timeout
        while len(self.seen) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.seen[-1][0] if self.seen else time.time()


def _topics(bootstrap: str, run: str) -> tuple[str, str]:
    from confluent_kafka.admin import AdminClient, NewTopic

    names = (f"bench-baseline-in-{run}", f"bench-baseline-out-{run}")
    admin = AdminClient({"bootstrap.servers": bootstrap})   # kept until the futures are done
    futures = admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names])
    for f in futures.values():
        f.result(30)
    return names


def measure(kind: str, bootstrap: str, size: int, records: int, tmp) -> dict:
    """One baseline's latency at 100 and 500 records/s and its throughput, in a fresh child process."""
    from benchmarks.pipeline_bench import percentiles
    from switchboard.kafka import producer

    run = uuid.uuid4().hex[:8]
    source, out = _topics(bootstrap, run)
    child = WorkerProcess([sys.executable, "-m", "benchmarks.pipeline_baselines", kind],
                          {"BASELINE_BOOTSTRAP": bootstrap, "BASELINE_IN": source, "BASELINE_OUT": out,
                           "BASELINE_RUN": run, "BASELINE_DIR": str(tmp / f"faust-{run}"), "PYTHONPATH": str(REPO)})
    child.ready_marker = READY
    child.start(120)
    reader, feed = Reader(bootstrap, out), producer({"bootstrap.servers": bootstrap}, **{"linger.ms": 0})
    value, result = os.urandom(size), {"kind": kind, "record_bytes": size}
    try:
        for _ in range(100):   # warm-up: connections, the child's first fetch
            feed.produce(source, key=repr(time.time()).encode(), value=value)
        feed.flush(10)
        reader.wait(100, 60)
        for rate in (100, 500):
            start, n = len(reader.seen), int(rate * 5)
            began = time.monotonic()
            for i in range(n):
                while time.monotonic() < began + i / rate:
                    time.sleep(0.0005)
                feed.produce(source, key=repr(time.time()).encode(), value=value)
                feed.poll(0)
            feed.flush(10)
            reader.wait(start + n, 30)
            result[f"latency_ms_{rate}"] = percentiles([(at - ts) * 1000 for at, ts in reader.seen[start:]])
        start, began = len(reader.seen), time.time()
        for i in range(records):
            feed.produce(source, key=repr(time.time()).encode(), value=value)
            if i % 1000 == 0:
                feed.poll(0)
        feed.flush(30)
        last = reader.wait(start + records, 120)
        result["records_per_s"] = round((len(reader.seen) - start) / (last - began))
    finally:
        reader.stop.set()
        child.stop()
    return result


if __name__ == "__main__":
    {"faust": _faust_child, "loop": _loop_child}[sys.argv[1]]()
