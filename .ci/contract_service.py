"""A live maatje for the contract tools of .ci/contract-tools, started as .ci/walkthrough starts
one: the built binary, a free loopback port, a temporary working directory (its own SQLite
database and mail files), and bootstrapped with the `maatje admin` CLI as the README does.

Only the standard library: the tools' virtual environment imports it next to their own packages.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "a long admin passphrase"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spec_server_url(spec_path: Path) -> str:
    """The first `servers` url of the spec ('' when it names none), e.g. '/v1'."""
    spec = json.loads(spec_path.read_text())
    servers = spec.get("servers") or [{}]
    return (servers[0].get("url") or "").rstrip("/")


@dataclass
class Service:
    """A running service; `stop()` ends it and removes its working directory."""

    binary: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    work: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAATJE__")}
        env.update(
            {
                "MAATJE__SERVER__PORT": str(self.port),
                "MAATJE__MAIL__PUBLIC_BASE_URL": self.origin,
                "MAATJE__LOG__FORMAT": "json",
                # Fuzzed webhook endpoints may name public hosts: this run sends nothing anywhere
                # but loopback, so their deliveries stay queued.
                "MAATJE__WEBHOOKS__WORKER_ENABLED": "false",
                # The metrics listener on a free port of its own (9464 may be taken).
                "MAATJE__METRICS__PORT": "0",
            }
        )
        env.update(self.env)
        return env

    def start(self) -> "Service":
        self.port = free_port()
        self.work = Path(tempfile.mkdtemp(prefix="maatje-contract-"))
        log = open(self.work / "server.log", "wb")
        self.process = subprocess.Popen(
            [str(self.binary), "serve"],
            cwd=self.work,
            env=self._env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"maatje exited at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.origin}/v1/health/ready", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"maatje did not become ready:\n{self.log_tail()}")
            time.sleep(0.1)

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Runs `maatje ARGS` in the service's directory (its database); returns standard output."""
        done = subprocess.run(
            [str(self.binary), *args],
            cwd=self.work,
            env=self._env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"maatje {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def bootstrap(self) -> dict[str, str]:
        """The README's bootstrap: the first admin, an organisation and its case system's key."""
        self.cli(
            "admin", "create-staff", "--email", ADMIN_EMAIL, "--name", "Ada Admin", "--role", "admin",
            stdin=ADMIN_PASSWORD + "\n",
        )
        org = self.cli("admin", "create-organisation", "--name", "Jeugdbescherming Voorbeeldregio")
        key = self.cli("admin", "create-api-client", "--organisation", org, "--name", "Zaaksysteem")
        return {"organisation_id": org, "case_key": key}

    def log_tail(self, lines: int = 20) -> str:
        if self.work is None:
            return ""
        try:
            text = (self.work / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
