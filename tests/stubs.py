"""Test doubles for the far side of the network only: a resolver that never sends a DNS packet."""

from __future__ import annotations

import ipaddress


class StubResolver:
    """Answers from a table. Names under ``.test`` and ``localhost`` resolve to 127.0.0.1; a few public-looking
    names resolve to documentation-range or well-known public addresses, which tests never connect to."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = {
            "localhost": ["127.0.0.1"],
            "public.example.com": ["93.184.216.34"],
            "example.com": ["93.184.216.34"],
            "www.example.com": ["93.184.216.34"],
            "private.example.com": ["10.0.0.5"],
            **(table or {}),
        }
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        if host in self.table:
            return list(self.table[host])
        if host.endswith(".test"):
            return ["127.0.0.1"]
        raise OSError(f"stub resolver: unknown host {host}")
