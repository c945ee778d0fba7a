"""``/_mock/faults``: injected statuses and delays, before everything else of v1."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from inprocess import Mock

SEND = {"to": "447700900100", "from": "Acme", "content": "Hello"}


def add_fault(mock: Mock, **fault: Any) -> Any:
    response = mock.client.post("/_mock/faults", json=fault)
    assert response.status_code == 200, response.text
    return response.json()


def send(mock: Mock, **kwargs: Any) -> Any:
    return mock.v1("POST", "/v1/Sms/Send", json=SEND, **kwargs)


def test_the_next_n_matching_requests_get_the_status_then_it_is_served(mock: Mock) -> None:
    fault = add_fault(mock, method="POST", path="/v1/Sms/Send", status=503, times=2)

    statuses = [send(mock).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert fault["id"] and fault["times"] == 2 and fault["delayMs"] == 0
    assert mock.client.get("/_mock/faults").json()["items"] == []


def test_without_a_body_the_answer_is_an_aspnet_problem_with_the_request_id(
    mock: Mock,
) -> None:
    add_fault(mock, method="POST", path="/v1/Sms/Send", status=429)

    response = send(mock, headers={"X-Request-Id": "req-42"})

    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-42"
    problem = response.json()
    assert problem["status"] == 429
    assert problem["title"] == "Too Many Requests"
    assert problem["type"] == "https://tools.ietf.org/html/rfc6585#section-4"
    assert problem["traceId"].startswith("00-")
    assert "fault" in problem["detail"]


def test_a_given_body_and_headers_are_answered_exactly(mock: Mock) -> None:
    body = {"error": "quota", "nested": [1, 2, {"x": None}]}
    add_fault(
        mock, method="post", path="/v1/Sms/Send", status=429, body=body,
        headers={"Retry-After": "7"},
    )  # fmt: skip

    response = send(mock)

    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "7"
    assert response.json() == body


def test_faults_come_before_authentication_and_body_checks(mock: Mock) -> None:
    add_fault(mock, method="POST", path="/v1/Sms/Send", status=503)

    response = mock.v1("POST", "/v1/Sms/Send", key=None, content=b"not json")

    assert response.status_code == 503


def test_the_path_ignores_case_and_a_trailing_slash_and_not_the_method(mock: Mock) -> None:
    add_fault(mock, method="GET", path="/V1/SMS/send/", status=500)

    assert send(mock).status_code == 200  # another method
    assert mock.v1("GET", "/v1/sms/SEND").status_code == 500


def test_a_trailing_star_matches_any_rest_of_the_path(mock: Mock) -> None:
    reference = mock.send()["reference"]
    add_fault(mock, method="GET", path="/v1/Sms/*", status=502, times=2)

    assert mock.v1("GET", f"/v1/Sms/{reference}").status_code == 502
    assert mock.v1("GET", "/v1/sms/batch/B1").status_code == 502
    assert mock.v1("GET", f"/v1/Sms/{reference}").status_code == 200


def test_method_star_matches_any_method(mock: Mock) -> None:
    add_fault(mock, method="*", path="/v1/Account", status=500, times=2)

    assert mock.v1("GET", "/v1/Account").status_code == 500
    assert mock.v1("PUT", "/v1/Account", json={}).status_code == 500


def test_the_oldest_matching_fault_takes_the_request(mock: Mock) -> None:
    add_fault(mock, method="POST", path="/v1/Sms/*", status=500)
    add_fault(mock, method="POST", path="/v1/Sms/Send", status=503)

    assert [send(mock).status_code for _ in range(3)] == [500, 503, 200]


def test_the_control_surface_is_never_faulted(mock: Mock) -> None:
    response = mock.client.post(
        "/_mock/faults", json={"method": "GET", "path": "/_mock/health", "status": 500}
    )
    assert response.status_code == 400
    assert "path" in response.json()["errors"]

    add_fault(mock, method="GET", path="/*", status=500)
    assert mock.client.get("/_mock/health").status_code == 200
    assert mock.v1("GET", "/v1/Account").status_code == 500


def test_a_delay_without_status_serves_the_request_normally_after_it(mock: Mock) -> None:
    add_fault(mock, method="POST", path="/v1/Sms/Send", delayMs=200)

    started = time.monotonic()
    response = send(mock)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.json()["to"] == "447700900100"
    assert elapsed >= 0.2
    started = time.monotonic()
    assert send(mock).status_code == 200
    assert time.monotonic() - started < 0.2


def test_a_delay_with_a_status_waits_then_answers_it(mock: Mock) -> None:
    add_fault(mock, method="POST", path="/v1/Sms/Send", delayMs=150, status=504)

    started = time.monotonic()
    response = send(mock)

    assert response.status_code == 504
    assert time.monotonic() - started >= 0.15


def test_204_is_answered_without_a_body(mock: Mock) -> None:
    add_fault(mock, method="DELETE", path="/v1/Sms/*", status=204)

    response = mock.v1("DELETE", "/v1/Sms/M1")

    assert response.status_code == 204
    assert response.content == b""


def test_the_list_is_newest_first_with_hits_and_remaining_times(mock: Mock) -> None:
    first = add_fault(mock, method="POST", path="/v1/Sms/Send", status=503, times=3)
    second = add_fault(mock, method="GET", path="/v1/Account", status=500)
    send(mock)

    listing = mock.client.get("/_mock/faults").json()

    assert [f["id"] for f in listing["items"]] == [second["id"], first["id"]]
    assert (listing["page"], listing["pageSize"], listing["totalCount"]) == (1, 100, 2)
    assert listing["items"][1]["times"] == 2
    assert listing["items"][1]["hits"] == 1


def test_delete_clears_all_and_delete_by_id_removes_one(mock: Mock) -> None:
    first = add_fault(mock, method="POST", path="/v1/Sms/Send", status=503)
    add_fault(mock, method="GET", path="/v1/Account", status=500)

    assert mock.client.delete(f"/_mock/faults/{first['id']}").json() == {"deleted": 1}
    assert mock.client.delete(f"/_mock/faults/{first['id']}").status_code == 404
    assert mock.client.delete("/_mock/faults").json() == {"deleted": 1}
    assert send(mock).status_code == 200
    assert mock.v1("GET", "/v1/Account").status_code == 200


def test_a_reset_forgets_the_faults(mock: Mock) -> None:
    add_fault(mock, method="POST", path="/v1/Sms/Send", status=503)

    mock.client.post("/_mock/reset")

    assert send(mock).status_code == 200


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"path": "/v1/Sms/Send", "status": 503}, "method"),
        ({"method": "PO ST", "path": "/v1/Sms/Send", "status": 503}, "method"),
        ({"method": "POST", "status": 503}, "path"),
        ({"method": "POST", "path": "v1/Sms/Send", "status": 503}, "path"),
        ({"method": "POST", "path": "/v1/*/Send", "status": 503}, "path"),
        ({"method": "POST", "path": "/v1/Sms/Send?x=1", "status": 503}, "path"),
        ({"method": "POST", "path": "/v1/Sms/Send", "status": 99}, "status"),
        ({"method": "POST", "path": "/v1/Sms/Send", "status": "503"}, "status"),
        ({"method": "POST", "path": "/v1/Sms/Send", "status": 600}, "status"),
        ({"method": "POST", "path": "/v1/Sms/Send"}, "status"),
        ({"method": "POST", "path": "/v1/Sms/Send", "status": 503, "times": 0}, "times"),
        ({"method": "POST", "path": "/v1/Sms/Send", "status": 503, "times": 1.5}, "times"),
        ({"method": "POST", "path": "/v1/Sms/Send", "delayMs": -1}, "delayMs"),
        ({"method": "POST", "path": "/v1/Sms/Send", "delayMs": 400_000}, "delayMs"),
        ({"method": "POST", "path": "/v1/Sms/Send", "delayMs": 10, "body": {}}, "body"),
        ({"method": "POST", "path": "/v1/Sms/Send", "status": 503, "headers": []}, "headers"),
        ({"method": "GET", "path": "/v1/Account", "status": 503, "headers": {"X": 1}}, "headers"),
        (
            {"method": "GET", "path": "/v1/Account", "status": 503, "headers": {"X": "\n"}},
            "headers",
        ),
        (
            {"method": "GET", "path": "/v1/Account", "status": 503, "headers": {"Connection": "x"}},
            "headers",
        ),
        ({"method": "GET", "path": "/v1/Account", "delayMs": 5, "headers": {"X": "y"}}, "headers"),
    ],
)
def test_invalid_faults_are_a_400_naming_the_field(
    mock: Mock, fault: dict[str, Any], field: str
) -> None:
    response = mock.client.post("/_mock/faults", json=fault)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert mock.client.get("/_mock/faults").json()["totalCount"] == 0


def test_property_names_are_matched_case_insensitively(mock: Mock) -> None:
    fault = add_fault(mock, METHOD="POST", Path="/v1/Sms/Send", STATUS=503, DelayMS=0)

    assert fault["status"] == 503
    assert send(mock).status_code == 503
