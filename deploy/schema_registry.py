"""A local Confluent-compatible schema registry (Apicurio Registry, in memory) built with Maven.

Confluent's own registry is not on Maven Central; Apicurio Registry is, and it answers Confluent's
REST API at /apis/ccompat/v7. `deploy/schema-registry/pom.xml` is a wrapper project that turns the
published (not directly runnable) Apicurio app into a runnable Quarkus jar. `LocalSchemaRegistry`
builds it once into `<cache_dir>/schema-registry/` (outside the repository tree), then starts and
stops it on 127.0.0.1. See deploy/schema-registry/README.md.

    python -m deploy.schema_registry build
    python -m deploy.schema_registry run --port 8081     # until Ctrl-C
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent / "schema-registry"
POM = HERE / "pom.xml"
SETTINGS = HERE / "settings.xml"
API_PATH = "/apis/ccompat/v7"
JVM_FLAGS = ("-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
DEFAULT_COMPATIBILITY = "BACKWARD"
PROGRESS_EVERY_S = 15.0
# Maven's line at the start of each plugin goal: "[INFO] --- quarkus-maven-plugin:2.16.4.Final:build (default) @ …"
_GOAL = re.compile(r"^\[INFO\] --- (?:maven-)?([\w.-]+?)(?:-maven)?(?:-plugin)?:[^:\s]+:(\w+)", re.M)


class RegistryError(RuntimeError):
    """The local schema registry could not be built, started or configured."""


def _require(tool: str, fix: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RegistryError(f"`{tool}` is not on PATH: {fix}")
    return path


def _tail(source: str | Path, lines: int = 60) -> str:
    if isinstance(source, Path):
        source = source.read_text(errors="replace") if source.exists() else f"({source} does not exist)"
    return "\n".join(source.splitlines()[-lines:])


def say(line: str) -> None:
    """A progress line on stderr."""
    print(line, file=sys.stderr, flush=True)


def _goal(log: Path) -> str:
    """The plugin goal Maven is running, from its log ("quarkus:build"); "" before the first."""
    found = _GOAL.findall(log.read_text(errors="replace")) if log.exists() else []
    return f": {found[-1][0]}:{found[-1][1]}" if found else ""


def _stamp() -> str:
    """Identifies the inputs of a build: a changed POM or settings file means a rebuild."""
    digest = hashlib.sha256()
    for path in (POM, SETTINGS):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _exited(process: subprocess.Popen, within: float) -> bool:
    """Wait up to `within` seconds; True once the process has exited."""
    try:
        process.wait(within)
        return True
    except subprocess.TimeoutExpired:
        return False


class LocalSchemaRegistry:
    """One in-memory Apicurio Registry on 127.0.0.1:`port`; its build and logs under `cache_dir`.

    Every start is a fresh, empty registry (storage is in-memory H2). Usable as a context manager:
    `with LocalSchemaRegistry(cache, port) as url: ...`.
    """

    def __init__(self, cache_dir: Path, port: int) -> None:
        self.cache_dir = Path(cache_dir).resolve()
        self.port = port
        self.build_dir = self.cache_dir / "schema-registry"
        self.log_file = self.build_dir / f"registry-{port}.log"
        self._process: subprocess.Popen | None = None
        self._log = None

    # -- build --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The Confluent-compatible base URL (what SchemaRegistryClient's `url` wants)."""
        return f"http://127.0.0.1:{self.port}{API_PATH}"

    @property
    def runner(self) -> Path | None:
        """The built runner jar, or None before a build."""
        found = sorted((self.build_dir / "target").glob("*-runner.jar"))
        return found[0] if found else None

    def _built(self) -> bool:
        marker = self.build_dir / "complete"
        return (self.runner is not None and marker.exists()
                and marker.read_text() == _stamp())

    def build(self) -> Path:
        """Build the runner jar with Maven unless a build of the current POM exists; return it.

        The first build downloads ~230 MB into ~/.m2 (about 3 minutes); later ones take ~20-30 s.
        """
        if self._built():
            return self.runner
        _require("java", "install a Java 17 runtime (e.g. `apt-get install openjdk-17-jdk-headless`)")
        mvn = _require("mvn", "install Maven (e.g. `apt-get install maven`) to build the registry")
        self.build_dir.mkdir(parents=True, exist_ok=True)
        with open(self.build_dir / "build.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers share one build
            if not self._built():
                self._maven(mvn)
        return self.runner

    def _maven(self, mvn: str) -> None:
        (self.build_dir / "complete").unlink(missing_ok=True)
        shutil.rmtree(self.build_dir / "target", ignore_errors=True)
        shutil.copyfile(POM, self.build_dir / "pom.xml")
        build_log = self.build_dir / "build.log"
        say(f"building the schema registry with Maven (first build ~3 min, later ones ~30 s; log {build_log})…")
        started = time.monotonic()
        with open(build_log, "w") as out, subprocess.Popen(
                [mvn, "-B", "--no-transfer-progress", "-s", str(SETTINGS),
                 "-f", str(self.build_dir / "pom.xml"), "package"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.build_dir) as run:
            while not _exited(run, PROGRESS_EVERY_S):
                say(f"…{time.monotonic() - started:.0f} s{_goal(build_log)}")
        if run.returncode != 0 or self.runner is None:
            raise RegistryError(f"Maven could not build the schema registry (exit {run.returncode}; "
                                f"full log {build_log}):\n{_tail(build_log)}")
        (self.build_dir / "complete").write_text(_stamp())
        say(f"…done in {time.monotonic() - started:.0f} s ({self.runner})")

    # -- process ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the registry process this object started is alive."""
        return self._process is not None and self._process.poll() is None

    def command(self, runner: Path) -> list[str]:
        """The java command line that runs the registry."""
        return [_require("java", "install a Java 17 runtime"), *JVM_FLAGS,
                "-Dquarkus.http.host=127.0.0.1", f"-Dquarkus.http.port={self.port}",
                "-jar", str(runner)]

    def start(self, timeout: float = 60) -> str:
        """Build if needed, start the registry, set global BACKWARD compatibility; return its URL."""
        if self.running:
            return self.url
        runner = self.build()
        self._log = open(self.log_file, "wb")
        self._process = subprocess.Popen(
            self.command(runner), cwd=self.build_dir, stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_until_answering(timeout)
            self._request("PUT", "/config", {"compatibility": DEFAULT_COMPATIBILITY})
        except BaseException:
            self.stop()
            raise
        return self.url

    def _request(self, method: str, path: str, body: dict | None = None, timeout: float = 10):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise RegistryError(f"{method} {path} answered HTTP {exc.code}: "
                                f"{exc.read().decode(errors='replace')}") from exc
        except OSError as exc:
            raise RegistryError(f"{method} {path} failed: {exc}") from exc

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RegistryError(f"the schema registry exited with code {self._process.returncode} "
                                    f"(log {self.log_file}):\n{_tail(self.log_file)}")
            try:
                with urllib.request.urlopen(self.url + "/subjects", timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RegistryError(f"the schema registry did not answer on {self.url} within "
                                    f"{timeout:.0f} s (log {self.log_file}):\n{_tail(self.log_file)}")
            time.sleep(0.25)

    def stop(self, timeout: float = 15) -> None:
        """Stop the registry (its whole process group) and reap it; a no-op when not running."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                self._signal(process, signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._signal(process, signal.SIGKILL)
                    process.wait()
            else:
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _signal(process: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(process.pid, sig)  # its own session: pid == pgid
        except ProcessLookupError:
            pass

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    from switchboard.settings import PROJECT_ROOT

    parser = argparse.ArgumentParser(prog="python -m deploy.schema_registry", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["build", "run"])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--cache-dir", type=Path, default=PROJECT_ROOT / ".cache")
    args = parser.parse_args(argv)
    registry = LocalSchemaRegistry(args.cache_dir, args.port)
    try:
        if args.action == "build":
            print(registry.build())
            return 0
        print(f"schema registry at {registry.start()} (log {registry.log_file}); Ctrl-C stops it",
              flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while registry.running:
            time.sleep(1)
        print(f"the registry exited:\n{_tail(registry.log_file)}", file=sys.stderr)
        return 1
    except RegistryError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        registry.stop()


if __name__ == "__main__":
    sys.exit(main())
