"""Type aliases shared across condapprove."""

from __future__ import annotations

from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["Alternative", "ArrayLike", "BoolArray", "FloatArray", "IntArray", "SeedLike"]

SeedLike: TypeAlias = "int | np.random.SeedSequence | np.random.Generator | None"
Alternative: TypeAlias = Literal["two-sided", "less", "greater"]
ArrayLike: TypeAlias = npt.ArrayLike
FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
