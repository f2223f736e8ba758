"""The in-memory token cache answers as the database would: it forgets a token when it expires,
when it is logged out here, and asks the database again after `recheck_ms`."""

from __future__ import annotations

from contacthub.domain.users import Principal
from contacthub.services.principals import PrincipalCache


def principal(user_id: int, expires_at: int = 10_000) -> Principal:
    return Principal(user_id=user_id, app_id=1, default_region=None, token_expires_at=expires_at)


def test_a_cached_token_answers_until_it_expires() -> None:
    cache = PrincipalCache(recheck_ms=60_000)
    cache.put("token-a", principal(1, expires_at=5_000), now_ms=0)
    assert cache.get("token-a", now_ms=4_999) == principal(1, expires_at=5_000)
    assert cache.get("token-a", now_ms=5_000) is None
    assert cache.get("token-a", now_ms=1_000) is None  # forgotten, not merely hidden


def test_a_cached_token_is_asked_about_again_after_the_recheck_interval() -> None:
    cache = PrincipalCache(recheck_ms=1_000)
    cache.put("token-a", principal(1), now_ms=2_000)
    assert cache.get("token-a", now_ms=2_999) == principal(1)
    assert cache.get("token-a", now_ms=3_000) is None
    cache.put("token-a", principal(1), now_ms=3_000)
    assert cache.get("token-a", now_ms=3_500) == principal(1)


def test_a_forgotten_token_is_not_answered() -> None:
    cache = PrincipalCache(recheck_ms=60_000)
    cache.put("token-a", principal(1), now_ms=0)
    cache.forget("token-a")
    cache.forget("never-seen")
    assert cache.get("token-a", now_ms=1) is None


def test_an_unknown_token_is_not_answered() -> None:
    cache = PrincipalCache(recheck_ms=60_000)
    cache.put("token-a", principal(1), now_ms=0)
    assert cache.get("token-b", now_ms=0) is None


def test_the_least_recently_used_token_goes_first() -> None:
    cache = PrincipalCache(recheck_ms=60_000, capacity=2)
    cache.put("a", principal(1), now_ms=0)
    cache.put("b", principal(2), now_ms=0)
    assert cache.get("a", now_ms=0) is not None  # "a" is now the most recent
    cache.put("c", principal(3), now_ms=0)
    assert cache.get("b", now_ms=0) is None
    assert cache.get("a", now_ms=0) == principal(1)
    assert cache.get("c", now_ms=0) == principal(3)
