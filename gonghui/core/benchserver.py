"""The production web server for benchmarks that drive an app over HTTP (`bench claims`,
`bench redeem`, `bench signups`): granian (as deployed, README "Deployment") or gunicorn
gthread, started in a subprocess on a free loopback port against this process's database."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVERS = ("granian", "gunicorn")
# granian is the production server (README "Deployment"): measured against gunicorn gthread in the
# same runs on 2 cores it spent about a ninth less server CPU per claim and per redemption.
DEFAULT_SERVER = "granian"


def server_command(server: str, *, workers: int, threads: int, port: int) -> list[str]:
    """The production web server's command line (README "Deployment"), bound to loopback."""
    if server == "granian":
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            "1",
            "--no-ws",
            "--respawn-failed-workers",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "config.wsgi:application",
        ]
    if server == "gunicorn":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--bind",
            "127.0.0.1:%d" % port,
            "--keep-alive",
            "30",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ]
    raise ValueError("unknown server %r" % server)


def server_label(server: str, *, workers: int, threads: int) -> str:
    kind = "WSGI, blocking threads" if server == "granian" else "gthread"
    return "%s %d workers x %d threads (%s)" % (server, workers, threads, kind)


class WebServer:
    """The deployment server (granian or gunicorn) on a free port, against this process's
    database."""

    def __init__(self, *, server: str, workers: int, threads: int, conn_max_age: int):
        self.name = server
        self.port = free_port()
        env = {
            **os.environ,
            "DB_CONN_MAX_AGE": str(conn_max_age),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        command = server_command(server, workers=workers, threads=threads, port=self.port)
        self.process = subprocess.Popen(command, cwd=str(settings.BASE_DIR), env=env)  # noqa: S603 - sys.executable, fixed args

    def wait_ready(self, timeout: float = 60.0) -> None:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise RuntimeError("%s exited with %s" % (self.name, self.process.returncode))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("%s did not become ready" % self.name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
