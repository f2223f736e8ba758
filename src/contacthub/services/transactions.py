"""What a use case that spans several transactions is given to open them with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Connection

P = ParamSpec("P")
R = TypeVar("R")


class Transactions(Protocol):
    """Each call runs `operation(connection, ...)` in one transaction of its own, off the
    event loop: committed when it returns, rolled back when it raises."""

    async def reading(
        self,
        operation: Callable[Concatenate[Connection, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R: ...

    async def writing(
        self,
        operation: Callable[Concatenate[Connection, P], R],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R: ...
