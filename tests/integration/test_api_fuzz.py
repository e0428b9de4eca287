"""The API, fuzzed from its own OpenAPI document: no input ever yields a server error."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tracker.security import issue_token

schemathesis = pytest.importorskip("schemathesis")


def test_no_generated_request_gets_a_server_error(app, org):
    token = issue_token(org.leader)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            # TRACKER_FUZZ_EXAMPLES=500 fuzzes harder than a CI run has time for.
            max_examples=int(os.environ.get("TRACKER_FUZZ_EXAMPLES", "25")),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case):
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code < 500, (case.as_curl_command(), response.text[:300])
            if response.status_code >= 400:
                headers = {k.lower(): v for k, v in response.headers.items()}
                content_type = headers["content-type"]
                content_type = content_type[0] if isinstance(content_type, list) else content_type
                assert content_type.startswith("application/problem+json"), content_type

        no_server_error()
