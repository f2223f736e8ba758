"""`contacthub.client.__all__` names exactly the public members, as httpx's test does."""

from __future__ import annotations

import contacthub.client


def test_all_names_exactly_the_public_members() -> None:
    public = {name for name in dir(contacthub.client) if not name.startswith("_")}
    assert set(contacthub.client.__all__) == public


def test_every_exported_name_resolves() -> None:
    for name in contacthub.client.__all__:
        assert getattr(contacthub.client, name) is not None
