import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import RunningHost


def test_healthz_needs_the_token(host: RunningHost) -> None:
    assert httpx.get(f"{host.url}/healthz").status_code == 401
    wrong = httpx.get(f"{host.url}/healthz", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    right = httpx.get(f"{host.url}/healthz", headers={"Authorization": f"Bearer {host.token}"})
    assert right.status_code == 200
    body = right.json()
    assert body["status"] == "ok" and body["protocol"] == 1 and body["pid"] == host.process.pid


def test_unknown_paths_are_refused_without_the_token(host: RunningHost) -> None:
    assert httpx.get(f"{host.url}/docs").status_code == 401


@pytest.mark.parametrize("token", ["wrong-token-of-enough-length", ""])
def test_websocket_refuses_a_wrong_or_missing_token(host: RunningHost, token: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        host.connect(token=token or "x").close()
    assert refused.value.response.status_code == 403


def test_websocket_without_any_authorization_header(host: RunningHost) -> None:
    with pytest.raises(InvalidStatus):
        connect(host.ws_url, open_timeout=10).close()
