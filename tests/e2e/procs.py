"""Process helpers for the e2e tier: free ports, subprocesses with captured logs, waiting for URLs."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

REPO = Path(__file__).resolve().parents[2]
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_T = TypeVar("_T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def client() -> httpx.Client:
    """An HTTP client that ignores proxy settings (everything here is on loopback)."""
    return httpx.Client(trust_env=False, timeout=10.0)


class Proc:
    """A subprocess whose stdout and stderr go to one log file, so a full pipe can never block it."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: Mapping[str, str] | None = None,
                 cwd: Path = REPO) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "wb")  # closed in stop()
        try:
            self.popen = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, env=dict(env) if env is not None else None,
                                          cwd=cwd)
        except BaseException:
            self._log.close()
            raise

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_for_output(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first match of the regex `pattern` in the log; fails early if the process exits."""
        compiled = re.compile(pattern)

        def found() -> re.Match[str] | None:
            match = compiled.search(self.output())
            if match is None and not self.alive():
                raise AssertionError(f"{self.name} exited with {self.popen.returncode} before printing "
                                     f"{pattern!r}:\n{self.output()}")
            return match

        return wait_until(found, timeout, f"{self.name} to print {pattern!r}")

    def stop(self, grace: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after `grace` seconds; always reaps the process and closes the log."""
        try:
            if self.alive():
                self.popen.terminate()
                try:
                    self.popen.wait(grace)
                except subprocess.TimeoutExpired:
                    self.popen.kill()
            return self.popen.wait(grace)
        finally:
            self._log.close()

    def report(self) -> None:
        """Print the log (pytest shows it only when the test failed)."""
        print(f"----- {self.name} (exit {self.popen.returncode}): {' '.join(self.argv)}")  # noqa: T201
        print(self.output())  # noqa: T201


@contextmanager
def running(name: str, argv: list[str], log_path: Path,
            env: Mapping[str, str] | None = None) -> Iterator[Proc]:
    """Start a process for the duration of a `with` block; stop it and print its log on the way out."""
    proc = Proc(name, argv, log_path, env)
    try:
        yield proc
    finally:
        proc.stop()
        proc.report()


def wait_until(check: Callable[[], _T | None], timeout: float = 30.0, what: str = "a condition",
               interval: float = 0.05) -> _T:
    """Call `check` until it returns something truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: _T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def wait_for_url(url: str, timeout: float = 30.0, proc: Proc | None = None,
                 status: int = 200) -> httpx.Response:
    """GET `url` until it answers `status`; fails early when `proc` has exited."""
    with client() as http:
        def answered() -> httpx.Response | None:
            if proc is not None and not proc.alive():
                raise AssertionError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.output()}")
            try:
                response = http.get(url, timeout=2.0)
            except httpx.TransportError:
                return None
            return response if response.status_code == status else None

        return wait_until(answered, timeout, f"{url} to answer {status}", interval=0.1)


# ---------------------------------------------------------------------------- Dutybot
class Dutybot:
    """A running `dutybot serve` and a client for its HTTP surface."""

    def __init__(self, proc: Proc, url: str, integration_url: str, http: httpx.Client,
                 api_token: str) -> None:
        self.proc, self.url, self.integration_url, self.http = proc, url, integration_url, http
        self._auth = {"authorization": f"Bearer {api_token}"}

    def api(self, method: str, path: str, headers: Mapping[str, str] | None = None,
            **kwargs: Any) -> httpx.Response:
        """A REST API call with the config's bearer token (or `headers` that replace it)."""
        merged = {**self._auth, **(headers or {})}
        return self.http.request(method, f"{self.url}/api/v1{path}", headers=merged, **kwargs)

    def incidents(self, status: str | None = None) -> list[dict[str, Any]]:
        response = self.api("GET", "/incidents", params={"status": status} if status else None)
        assert response.status_code == 200, response.text
        return list(response.json()["incidents"])

    def incident(self, incident_id: int) -> dict[str, Any]:
        response = self.api("GET", f"/incidents/{incident_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_for_status(self, incident_id: int, status: str, timeout: float = 30.0) -> dict[str, Any]:
        return wait_until(lambda: (found := self.incident(incident_id))["status"] == status and found,
                          timeout, f"incident {incident_id} to be {status}", interval=0.1)


def dutybot_env(db_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DUTYBOT_")}
    env.update({name: "" for name in PROXY_VARS})
    env.update({"DUTYBOT_DATABASE_URL": f"sqlite:///{db_path}", "DUTYBOT_LOCALE": "en",
                "PYTHONUNBUFFERED": "1"})
    return env


@contextmanager
def dutybot_serve(tmp_path: Path, raw_config: dict[str, Any], port: int, api_token: str,
                  timeout: float = 30.0, extra_env: Mapping[str, str] | None = None) -> Iterator[Dutybot]:
    """`dutybot serve -f <config> --port <port>` on a fresh SQLite file; yields once it is healthy."""
    config_path = tmp_path / "dutybot.yaml"
    config_path.write_text(yaml.safe_dump(raw_config, allow_unicode=True))
    argv = [sys.executable, "-m", "bot.cli", "serve", "-f", str(config_path), "--host", "127.0.0.1",
            "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    env = {**dutybot_env(tmp_path / "dutybot.db"), **(extra_env or {})}
    with running("dutybot serve", argv, tmp_path / "dutybot.log", env) as proc:
        proc.wait_for_output(re.escape(f"listening on {url}"), timeout)
        match = proc.wait_for_output(rf"\(alertmanager\): ({re.escape(url)}/hooks/alertmanager/\S+)", timeout)
        wait_for_url(f"{url}/healthz", timeout, proc)
        with client() as http:
            yield Dutybot(proc, url, match.group(1), http, api_token)
