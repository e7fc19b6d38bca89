"""A throwaway S3 API for the test suite: moto's server (``moto_server``) in a subprocess on a free loopback
port, like the PostgreSQL cluster of tests/pgcluster.py. Nothing it stores outlives the suite.

boto3 never reaches AWS from a test: every storage a test opens names this server as endpoint_url, and
tests/conftest.py replaces the AWS credentials and turns off the instance-metadata lookup before anything runs.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid

from tests.pgcluster import free_port


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self.endpoint_url
            except OSError:
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.05)

    def new_bucket(self) -> str:
        """A fresh, empty bucket on this server."""
        import boto3

        name = f"paraph-{uuid.uuid4().hex[:12]}"
        client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")
        client.create_bucket(Bucket=name)
        return name

    def storage_url(self, bucket: str, prefix: str = "files") -> str:
        return f"s3://{bucket}/{prefix}?endpoint_url={self.endpoint_url}&region=us-east-1"

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
