"""Configuration: Timeouts, PollPolicy, base URL rules, environment pick-up."""

from __future__ import annotations

import sys

import attrs
import pytest

from beatapi_async import AsyncBeatAPI, PollPolicy, RequestValidationError, Timeouts, __version__
from beatapi_async._config import DEFAULT_BASE_URL, USER_AGENT, check_base_url, load_config, to_timeouts


def _load(**kw: object) -> object:
    args: dict[str, object] = {
        "api_key": None,
        "base_url": None,
        "timeout": None,
        "max_retries": 3,
        "poll": None,
        "user_agent": None,
        "environ": {},
    }
    args.update(kw)
    return load_config(**args)  # type: ignore[arg-type]


def test_defaults() -> None:
    t = Timeouts()
    assert (t.connect, t.read, t.total) == (10, 60, 300)  # SDK.md: a total per attempt by default
    p = PollPolicy()
    assert (p.interval, p.max_interval, p.budget_per_minute) == (5.0, 10.0, 100)
    assert PollPolicy(interval=0.05, max_interval=0.1, budget_per_minute=6000).interval == 0.05


def test_value_objects_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Timeouts().read = 1  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        PollPolicy().interval = 1  # type: ignore[misc]
    assert Timeouts(read=5) == Timeouts(read=5)
    assert hash(Timeouts(read=5)) == hash(Timeouts(read=5))


@pytest.mark.parametrize("bad", [0, -1, True, "5"])
def test_timeouts_refuse_nonsense(bad: object) -> None:
    with pytest.raises(RequestValidationError, match=r"timeout\.read"):
        Timeouts(read=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("kw", [{"interval": 0}, {"budget_per_minute": -1}, {"interval": 5, "max_interval": 1}])
def test_poll_policy_refuses_nonsense(kw: dict[str, float]) -> None:
    with pytest.raises(RequestValidationError, match="poll"):
        PollPolicy(**kw)


def test_float_timeout_means_total() -> None:
    assert to_timeouts(2.5) == Timeouts(total=2.5)
    assert to_timeouts(None) == Timeouts()
    assert to_timeouts(Timeouts(read=1)) == Timeouts(read=1)
    with pytest.raises(RequestValidationError, match="timeout"):
        to_timeouts("10")  # type: ignore[arg-type]
    assert AsyncBeatAPI("sk_x", timeout=3).timeout == Timeouts(total=3.0)


def test_user_agent() -> None:
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"beatapi-async/{__version__} python/{py}" == USER_AGENT
    cfg = _load(user_agent="my-app/1.2")
    assert cfg.user_agent == f"{USER_AGENT} my-app/1.2"  # type: ignore[attr-defined]


def test_env_pick_up() -> None:
    cfg = _load(environ={"BEATAPI_API_KEY": "sk_env", "BEATAPI_BASE_URL": "https://eu.beatapi.io/"})
    assert cfg.api_key == "sk_env"  # type: ignore[attr-defined]
    assert cfg.base_url == "https://eu.beatapi.io"  # type: ignore[attr-defined]
    cfg = _load(api_key="sk_arg", base_url="https://arg.example.com", environ={"BEATAPI_API_KEY": "sk_env"})
    assert cfg.api_key == "sk_arg"  # type: ignore[attr-defined]
    assert cfg.base_url == "https://arg.example.com"  # type: ignore[attr-defined]
    cfg = _load()
    assert cfg.api_key is None  # type: ignore[attr-defined]
    assert cfg.base_url == DEFAULT_BASE_URL  # type: ignore[attr-defined]


def test_env_pick_up_by_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEATAPI_API_KEY", "sk_from_env_123")
    monkeypatch.setenv("BEATAPI_BASE_URL", "http://127.0.0.1:9")
    c = AsyncBeatAPI()
    assert c.base_url == "http://127.0.0.1:9"
    assert "sk_from_env_123" not in repr(c)


def test_key_never_in_config_repr() -> None:
    cfg = _load(api_key="sk_live_supersecret")
    assert "supersecret" not in repr(cfg)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080",
        "http://127.0.0.1:1234/",
        "http://[::1]:80",
        "http://127.9.9.9",
        "https://x.example.com",
        "http://app.localhost:3000",
        "http://127.1:8080",
        "http://localhost.:8080",
    ],
)
def test_base_url_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.beatapi.io",
        "http://10.0.0.1",
        "http://192.168.1.10:8080",
        "http://localhost.evil.com",
        "http://127.0.0.1.nip.io",
        "ftp://api.beatapi.io",
        "api.beatapi.io",
        "",
        "https://",
    ],
)
def test_base_url_refused(url: str) -> None:
    with pytest.raises(RequestValidationError, match="base_url"):
        check_base_url(url)
    if url:  # an empty base_url means "not given": the default applies
        with pytest.raises(RequestValidationError, match="base_url"):
            AsyncBeatAPI("sk_x", base_url=url)


def test_http_env_base_url_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEATAPI_BASE_URL", "http://api.beatapi.io")
    with pytest.raises(RequestValidationError, match="base_url"):
        AsyncBeatAPI("sk_x")


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_max_retries_refused(bad: object) -> None:
    with pytest.raises(RequestValidationError, match="max_retries"):
        AsyncBeatAPI("sk_x", max_retries=bad)  # type: ignore[arg-type]


def test_empty_key_refused() -> None:
    with pytest.raises(RequestValidationError, match="api_key"):
        AsyncBeatAPI("   ")
