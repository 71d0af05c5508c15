"""Prometheus metrics, one registry per app instance (tests build many)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.alerts_received = Counter("dutybot_alerts_received", "Alert events accepted", ["source"],
                                       registry=self.registry)
        self.incidents_created = Counter("dutybot_incidents_created", "Incidents opened", registry=self.registry)
        self.alerts_dropped = Counter("dutybot_alerts_dropped", "Alert events dropped by a rule", ["rule"],
                                      registry=self.registry)
        self.ingest_throttled = Counter("dutybot_ingest_throttled", "Ingest requests refused by a rate limit",
                                        registry=self.registry)
        self.notifications = Counter("dutybot_notifications", "Notification deliveries", ["platform", "result"],
                                     registry=self.registry)
        self.ingest_seconds = Histogram("dutybot_ingest_seconds", "Time to store one webhook request",
                                        registry=self.registry)
