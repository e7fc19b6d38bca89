"""Prometheus metrics (``GET /metrics``, text format).

Counters and histograms live in the process that counts them (the web server, the in-process worker, a
``paraph worker``). With ``PARAPH_METRICS_DIR`` set, every Paraph process of one host writes them there
(prometheus_client's multiprocess mode) and ``/metrics`` sums them; unset, ``/metrics`` shows its own
process's. The outbox's depth and oldest pending age are read from the database at each scrape, so any node
shows the whole cluster's.

Label values come from short fixed sets (route templates, job kinds, outcomes), never from request data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from paraph.db import utcnow
from paraph.models import CallbackDelivery
from paraph.models.callback import DeliveryState

if TYPE_CHECKING:
    from paraph.runtime import Runtime

# No *_created series: a counter starts with its process, as Prometheus expects.
disable_created_metrics()  # type: ignore[no-untyped-call]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_WORK = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

HTTP_REQUESTS = Counter(
    "paraph_http_requests", "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"], registry=_REGISTRY,
)  # fmt: skip
HTTP_SECONDS = Histogram(
    "paraph_http_request_duration_seconds", "Time to answer an HTTP request, by method and route template.",
    ["method", "route"], buckets=_LATENCY, registry=_REGISTRY,
)  # fmt: skip
CALLBACK_ATTEMPTS = Counter(
    "paraph_callback_attempts", "Callback attempts, by outcome (delivered, retry: a transient failure, failed).",
    ["outcome"], registry=_REGISTRY,
)  # fmt: skip
CALLBACK_SECONDS = Histogram(
    "paraph_callback_attempt_duration_seconds", "Time of a callback attempt, by outcome.",
    ["outcome"], buckets=_LATENCY, registry=_REGISTRY,
)  # fmt: skip
JOBS = Counter(
    "paraph_jobs", "Background jobs run, by kind and outcome (ok, failed, lease_lost).",
    ["kind", "outcome"], registry=_REGISTRY,
)  # fmt: skip
DOCUMENT_SECONDS = Histogram(
    "paraph_document_processing_duration_seconds",
    "Time to process the documents of a request or template (fetch, check, fields, page images), by outcome.",
    ["outcome"], buckets=_WORK, registry=_REGISTRY,
)  # fmt: skip
MAIL = Counter("paraph_mail", "Mail messages, by outcome (sent, failed).", ["outcome"], registry=_REGISTRY)


def use_directory(directory: Path | None) -> None:
    """Count into ``directory`` (multiprocess mode) from now on; called once, before the process counts."""
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    # Metrics without labels hold a value from their creation: none here; labelled children are made on use.


def shared_directory() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") if values.ValueClass is not values.MutexValue else None


#: outcome -> its (counter, histogram) children, looked up once per process instead of per attempt (the
#: delivery hot path calls this for every attempt).
_attempt_children: dict[str, tuple[Counter, Histogram]] = {}


def callback_attempt(ok: bool, transient: bool, latency_ms: int) -> None:
    outcome = "delivered" if ok else "retry" if transient else "failed"
    children = _attempt_children.get(outcome)
    if children is None:
        children = _attempt_children[outcome] = (CALLBACK_ATTEMPTS.labels(outcome), CALLBACK_SECONDS.labels(outcome))
    children[0].inc()
    children[1].observe(latency_ms / 1000)


class Outbox:
    """The callback outbox, read at each scrape: deliveries pending, and the age of the oldest."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        with self.runtime.unit_of_work(write=False) as session:
            rows = session.execute(
                sa.select(CallbackDelivery.state, sa.func.count(), sa.func.min(CallbackDelivery.created_at))
                .where(CallbackDelivery.state.in_([DeliveryState.PENDING, DeliveryState.HELD]))
                .group_by(CallbackDelivery.state)
            ).all()
        found = {str(state): (int(n), oldest) for state, n, oldest in rows}
        depth, oldest = found.get(DeliveryState.PENDING, (0, None))
        age = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily("paraph_outbox_pending", "Callback deliveries waiting for an attempt.", depth)
        yield GaugeMetricFamily(
            "paraph_outbox_held", "Callback deliveries held while their endpoint is disabled.",
            found.get(DeliveryState.HELD, (0, None))[0],
        )  # fmt: skip
        yield GaugeMetricFamily(
            "paraph_outbox_oldest_pending_age_seconds", "Age of the oldest pending callback delivery.", age
        )


def exposition(runtime: Runtime) -> bytes:
    registry = CollectorRegistry()
    if shared_directory() is not None:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Own())
    registry.register(Outbox(runtime))
    return generate_latest(registry)


class _Own:
    def collect(self) -> Iterator[Metric]:
        return iter(_REGISTRY.collect())
