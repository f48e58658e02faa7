"""The REST API's OpenAPI schema, fuzzed with schemathesis in-process: whatever the
schema allows (and some of what it does not), the API never answers with a server error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from tests.desk_helpers import Desk, add_answers, add_flag, add_held, delphi_rows, desk_app

EXAMPLES = 20
STUDY = "ae-waiting"


def _seed(desk: Desk) -> None:
    for n in range(4):
        pid, version = desk.join(STUDY, "patient" if n % 2 else "staff")
        add_answers(desk.database, delphi_rows(pid, "patient", STUDY, version, 1, {"A": 7 + n % 3, "B": 2}))
        add_answers(desk.database, [{"participant_id": pid, "study_id": STUDY, "flow_id": "understand",
                                     "flow_version_id": version, "flow_version": "v", "step_id": "role", "value": "carer"}])
    add_flag(desk.database, STUDY, pid)
    add_held(desk.database, STUDY, pid, "quiet hours")


def _strategy(operation: Any) -> st.SearchStrategy[Any]:
    """Random inputs, inputs aimed at the real study (to reach the code behind the 404), and invalid inputs."""
    modes = [operation.as_strategy(), operation.as_strategy(GenerationMode.NEGATIVE)]
    if "{study_id}" in operation.path:
        real = {"study_id": STUDY}
        modes = [operation.as_strategy(path_parameters=real),
                 operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real), *modes]
    if operation.path.endswith("/charts/{kind}"):
        modes.insert(0, operation.as_strategy(path_parameters={**real, "kind": "funnel"}, query={"flow": "understand"}))
    return st.one_of(modes)


def test_no_api_operation_answers_with_a_server_error(tmp_path: Path) -> None:
    with desk_app(tmp_path, rate=1e6, burst=10**6, theme_finder=lambda texts: None) as desk:
        _seed(desk)
        token = desk.token("admin", ())
        schema = schemathesis.openapi.from_dict(desk.app.openapi())
        operations = []
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                pytest.fail(f"schemathesis cannot read an operation of the OpenAPI schema: {result.err()}")
            operations.append(result.ok())
        assert len(operations) >= 20
        failures: list[str] = []
        for operation in operations:

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=_strategy(operation))
            def call(case: Any) -> None:
                kwargs = case.as_transport_kwargs(base_url="https://testserver")
                kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Bearer {token}"}
                response = desk.client.request(**{k: v for k, v in kwargs.items() if k != "timeout"})
                if response.status_code >= 500:
                    failures.append(f"{case.method} {kwargs['url']} -> {response.status_code}: {response.text[:200]}")

            call()
        assert failures == []
