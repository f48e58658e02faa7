"""compose.yaml's monitoring profile: Prometheus scrapes every api replica and every worker
(deploy/prometheus.yml), on the ports those processes listen on, with the metrics token compose
hands it. Docker is not run here: the files are read and checked against each other and against
Chorus's own settings."""

from __future__ import annotations

from typing import Any

import yaml

from bot.settings import Settings
from tests.conftest import ROOT


def _yaml(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def _targets(job: dict[str, Any]) -> set[tuple[str, int]]:
    return {(name, sd["port"]) for sd in job["dns_sd_configs"] for name in sd["names"]}


def test_prometheus_finds_every_api_replica_and_worker_on_their_metrics_ports() -> None:
    compose, prometheus = _yaml("compose.yaml"), _yaml("deploy/prometheus.yml")
    services = compose["services"]
    worker_env = services["worker"]["environment"]
    worker = Settings.from_env({key: str(value) for key, value in worker_env.items() if key.startswith("CHORUS_WORKER_")})
    assert worker.worker_metrics_host == "0.0.0.0", "another container scrapes it"
    assert worker_env["CHORUS_QUEUE_URL"], "the worker keeps the shared settings (a merge, not a replacement)"
    api_port = int(services["api"]["command"][services["api"]["command"].index("--port") + 1])
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert _targets(jobs["chorus-api"]) == {("api", api_port)}
    assert _targets(jobs["chorus-worker"]) == {("worker", worker.worker_metrics_port)}


def test_every_scrape_sends_the_token_compose_gives_prometheus() -> None:
    compose, prometheus = _yaml("compose.yaml"), _yaml("deploy/prometheus.yml")
    service = compose["services"]["prometheus"]
    assert service["profiles"] == ["monitoring"], "only with --profile monitoring"
    (given,) = service["configs"]
    assert "CHORUS_METRICS_TOKEN" in compose["configs"][given["source"]]["content"]
    assert all(job["authorization"] == {"credentials_file": given["target"]} for job in prometheus["scrape_configs"])
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in service["volumes"]
