"""Argument checks with one message template.

Messages follow "``name`` must be <contract>; got <repr(value)>." and raise
:class:`~condapprove.errors.DesignError` (a ``ValueError``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import DesignError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "MAX_BETA_SHAPE",
    "MAX_INT",
    "MIN_ALPHA",
    "check_confidence_level",
    "check_finite",
    "check_finite_array",
    "check_int",
    "check_one_of",
    "check_positive",
    "check_probability",
]


#: Smallest one-sided error a spending function spends in total (and a design file's significance level): below it
#: the boundaries are not computed reliably (an O'Brien-Fleming-type final bound fell below the fixed design's at
#: 1e-60, the recursion divided by zero at 1e-70 and gave a bound of 0 at 1e-200), and no study uses one.
MIN_ALPHA = 1e-6

#: Largest magnitude of an integer argument (a count of patients, events, replicates): every integer up to it is
#: exact as a double, and numpy's 64-bit loops hold it (2**63 patients raised an OverflowError in numpy, 10**30 a
#: TypeError).
MAX_INT = 2**53

#: Largest shape parameter of a beta distribution (a prior worth 10^12 patients): beyond it scipy's beta quantiles lose
#: their accuracy (the 2.5% point of Beta(6, 1e17) came out 1.39e-17 against 2.20e-17) and, near 1e200, turn to NaN.
MAX_BETA_SHAPE = 1e12


def _fail(name: str, contract: str, value: Any, hint: str | None = None) -> DesignError:
    message = f"`{name}` must be {contract}; got {value!r}."
    return DesignError(message, hint=hint)


def _as_finite(value: Any, name: str, contract: str) -> float:
    """``value`` as a finite float (not a bool, nor a string that reads as a number), or the template error naming
    ``contract``."""
    if isinstance(value, (str, bytes)):
        raise _fail(name, contract, value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _fail(name, contract, value) from None
    if isinstance(value, bool) or not math.isfinite(x):
        raise _fail(name, contract, value)
    return x


def check_probability(value: Any, name: str, *, open_low: bool = False, open_high: bool = False) -> float:
    """Return ``value`` as a float in [0, 1] (bounds optionally open), or raise."""
    lo = "(" if open_low else "["
    hi = ")" if open_high else "]"
    contract = f"a probability in {lo}0, 1{hi}"
    x = _as_finite(value, name, contract)
    if x < 0 or x > 1 or (open_low and x == 0) or (open_high and x == 1):
        raise _fail(name, contract, value)
    return x


def check_confidence_level(value: Any, name: str = "confidence_level") -> float:
    """Return a confidence level in the open interval (0, 1), or raise."""
    return check_probability(value, name, open_low=True, open_high=True)


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int within [minimum, maximum] and at most :data:`MAX_INT` in magnitude, or raise.

    Floats with an integral value (``3.0``) are accepted; booleans are not.
    """
    contract = "an integer"
    if minimum is not None and maximum is not None:
        contract += f" in [{minimum}, {maximum}]"
    elif minimum is not None:
        contract += f" >= {minimum}"
    elif maximum is not None:
        contract += f" <= {maximum}"
    if isinstance(value, bool):
        raise _fail(name, contract, value)
    # numpy's scalars, when numpy is loaded (a value cannot be one otherwise): checking a design's cohort need not
    # import numpy (see condapprove.cohorts)
    np_ = sys.modules.get("numpy")
    floats: tuple[type, ...] = (float, np_.floating) if np_ else (float,)
    ints: tuple[type, ...] = (int, np_.integer) if np_ else (int,)
    is_float, is_int = isinstance(value, floats), isinstance(value, ints)
    integral_float = is_float and math.isfinite(value) and float(value).is_integer()
    if is_int or integral_float:
        x = int(value)
    else:
        raise _fail(name, contract, value)
    if (minimum is not None and x < minimum) or (maximum is not None and x > maximum):
        raise _fail(name, contract, value)
    if abs(x) > MAX_INT:  # (numpy's int64 loops and the doubles of the estimators would overflow or round it)
        raise _fail(name, f"{contract} of at most 2**53 in magnitude", value)
    return x


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0), or raise."""
    contract = "a finite number >= 0" if allow_zero else "a finite number > 0"
    x = _as_finite(value, name, contract)
    if x < 0 or (x == 0 and not allow_zero):
        raise _fail(name, contract, value)
    return x


def check_finite(value: Any, name: str) -> float:
    """Return ``value`` as a finite float (booleans, NaN and infinities are refused), or raise."""
    return _as_finite(value, name, "a finite number")


def check_one_of(value: Any, name: str, options: Iterable[str], *, loc: str | None = None) -> str:
    """Return ``value`` if it is one of ``options``, or raise with a suggestion (``did you mean ...?``).

    With ``loc`` (an option of the command line, ``"--scenario"``) the error is located there and worded as the
    command line words it (``--scenario: must be one of ...; got ...``) instead of naming the argument ``name``.
    """
    opts = list(options)
    if value in opts:
        return str(value)
    import difflib

    close = difflib.get_close_matches(str(value), opts, n=1)
    hint = f"did you mean {close[0]!r}?" if close else None
    contract = "one of " + ", ".join(repr(o) for o in opts)
    if loc is not None:
        raise DesignError(f"must be {contract}; got {value!r}", loc=loc, hint=hint)
    raise _fail(name, contract, value, hint)


def check_finite_array(value: Any, name: str, *, ndim: int = 1, min_size: int = 1) -> np.ndarray:
    """Return ``value`` as a finite float64 array of the given ``ndim`` and at least ``min_size`` entries."""
    import numpy as np

    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # (OverflowError: an int beyond the doubles, 10**400)
        raise _fail(name, f"a {ndim}-d array of finite numbers", value) from None
    if arr.ndim != ndim:
        raise _fail(name, f"a {ndim}-d array of finite numbers", value)
    if arr.size < min_size:
        raise _fail(name, f"an array with at least {min_size} entries", value)
    if not np.all(np.isfinite(arr)):
        raise _fail(name, "an array of finite numbers (no NaN or inf)", value)
    return arr
