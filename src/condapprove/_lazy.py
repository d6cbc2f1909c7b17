"""Modules imported on first use: scipy.stats, scipy.optimize and scipy.integrate take about a second to import,
and code that only builds or validates objects (``condapprove validate``) should not pay it.

:func:`lazy_modules` puts a stand-in under each name in a module's globals; the first attribute looked up on a
stand-in imports the real module and puts it in the stand-in's place, so later look-ups are plain global ones.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["lazy_modules"]


class _StandIn:
    """A module not imported yet (see :func:`lazy_modules`)."""

    __slots__ = ("_as", "_name", "_where")

    def __init__(self, name: str, where: dict[str, Any], as_: str) -> None:
        self._name, self._where, self._as = name, where, as_

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._name)
        if self._where.get(self._as) is self:
            self._where[self._as] = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"


def lazy_modules(where: dict[str, Any], package: str, *names: str) -> tuple[Any, ...]:
    """Stand-ins for ``from package import name, ...`` in the module whose globals are ``where``.

    Examples
    --------
    >>> import sys
    >>> namespace: dict = {}
    >>> (qp,) = lazy_modules(namespace, "email", "quoprimime")
    >>> namespace["quoprimime"] = qp
    >>> qp.unquote("=3D")  # the first look-up imports email.quoprimime
    '='
    >>> namespace["quoprimime"] is sys.modules["email.quoprimime"]
    True
    """
    return tuple(_StandIn(f"{package}.{n}", where, n) for n in names)
