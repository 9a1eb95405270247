"""The Java interop reader (tests/interop/java), built with Maven once per version of its sources and
the local broker's Kafka version, under <repo>/.cache/interop-java/<hash> (a file lock makes a
concurrent build wait): the session's registry prebuild starts it in the background
(tests/registry_fixture.py), the interop test's fixture takes it (tests/integration/test_java_interop.py)."""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from deploy.kafka.broker import kafka_version
from tests.kafka_fixture import CACHE_DIR

PROJECT = Path(__file__).resolve().parent / "java"
MAIN_CLASS = "cx.switchboard.interop.ReadTopics"
# A short-lived JVM: the client compiler and the serial collector start it fastest on two cores.
JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


class BuildFailed(Exception):
    """Maven could not build the reader (its output in the message)."""


def _maven(out: Path, offline: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["mvn", "-q", "-B", *(["-o"] if offline else []), "-f", str(PROJECT / "pom.xml"),
         f"-Dkafka.version={kafka_version()}", f"-Dinterop.out={out}",
         "compile", "dependency:build-classpath", f"-Dmdep.outputFile={out / 'classpath.txt'}"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
        env=os.environ | {"MAVEN_OPTS": " ".join(JVM_FLAGS)})


def _version() -> str:
    sources = sorted(p for p in PROJECT.rglob("*") if p.is_file())
    digest = hashlib.sha256(kafka_version().encode())
    for path in sources:
        digest.update(str(path.relative_to(PROJECT)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def reader_command() -> list[str]:
    """The command that runs the Java reader, building it first unless this version is built
    (offline when ~/.m2 has the jars, else from Maven Central). BuildFailed names the tool or output."""
    for tool in ("mvn", "java"):
        if shutil.which(tool) is None:
            raise BuildFailed(f"`{tool}` is not on PATH: install Maven and a Java 17+ JDK "
                              "(apt-get install maven openjdk-17-jdk-headless)")
    out = CACHE_DIR / "interop-java" / _version()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "complete").exists():
            built = _maven(out, offline=True)
            if built.returncode != 0:   # the first run: Maven Central fills ~/.m2 (about 15 s)
                started = time.monotonic()
                built = _maven(out, offline=False)
                print(f"fetched the Java interop jars from Maven Central in {time.monotonic() - started:.0f} s")
            if built.returncode != 0:
                raise BuildFailed("Maven could not build tests/interop/java (network access to Maven Central?):\n"
                                  + (built.stdout + built.stderr)[-3000:])
            (out / "complete").write_text("built\n")
    classpath = f"{out / 'classes'}:{(out / 'classpath.txt').read_text().strip()}"
    return ["java", *JVM_FLAGS, "-cp", classpath, MAIN_CLASS]
