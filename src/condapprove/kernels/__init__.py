"""Vectorised numerical kernels for the Monte-Carlo engine.

Each kernel works on a block of replicates at once (arrays of shape ``(m, n)``: ``m`` replicates, up to ``n``
patients each, padded columns masked by a boolean ``valid`` array), with no Python loop over replicates or
patients.  Import the kernels from their modules (``condapprove.kernels.survival``, ...).
"""

__all__: list[str] = []
