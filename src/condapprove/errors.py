"""Exception and warning hierarchy of condapprove.

Every error raised on purpose by condapprove derives from :class:`CondapproveError`;
every warning from :class:`CondapproveWarning`.  Invalid user input (design files,
arguments) raises :class:`DesignError` (also a :class:`ValueError`), which carries
the location of the problem so the command-line interface can print
``FILE:LINE:COL: dotted.path: message`` and exit with status 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CondapproveError",
    "CondapproveWarning",
    "ConvergenceError",
    "DegenerateDataWarning",
    "DesignError",
    "DesignErrors",
    "DesignWarning",
    "MonteCarloPrecisionWarning",
    "SmallSampleWarning",
]


class CondapproveError(Exception):
    """Base class of every error raised on purpose by condapprove."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One problem found in a user input.

    Attributes
    ----------
    loc : str
        Dotted path of the offending field (``"post_marketing.treated.accrual.rate_per_month"``),
        or ``""`` for the whole document.
    message : str
        What is wrong, following the template "must be <contract>; got <value>".
    file : str or None
        The file the problem is in, when known.
    line, column : int or None
        1-based position of the offending YAML node, when known.
    hint : str or None
        A suggested fix (``"did you mean 'replicates'?"``).
    """

    loc: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    hint: str | None = None

    def format(self) -> str:
        """Return the one-line ``FILE:LINE:COL: loc: message`` form (plus ``help:``)."""
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(str(self.line))
            if self.column is not None:
                where.append(str(self.column))
        prefix = ":".join(where)
        parts = [p for p in (prefix, self.loc) if p]
        text = ": ".join(parts + [self.message]) if parts else self.message
        if self.hint:
            text += f" (help: {self.hint})"
        # one problem, one line: a numpy array's repr is wrapped after a comma (",\n" and indentation), shown with a
        # space instead; other line breaks echoed from the input (a key, a CSV header) are shown escaped
        text = re.sub(r",\n +", ", ", text)
        return text.replace("\r", "\\r").replace("\n", "\\n")


class DesignError(CondapproveError, ValueError):
    """Invalid user input: a design file, a data file or an argument.

    Parameters
    ----------
    message : str
        What is wrong.
    loc : str, optional
        Dotted path of the offending field.
    file, line, column, hint : optional
        Location and suggested fix, see :class:`Problem`.
    """

    def __init__(
        self,
        message: str,
        *,
        loc: str = "",
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = Problem(loc=loc, message=message, file=file, line=line, column=column, hint=hint)
        super().__init__(self.problem.format())

    @property
    def problems(self) -> tuple[Problem, ...]:
        """All problems carried by this error (one for a plain :class:`DesignError`)."""
        return (self.problem,)


class DesignErrors(DesignError):
    """Several problems found in one input; all are reported, not only the first."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        if not problems:
            raise ValueError("DesignErrors needs at least one problem")
        self._problems = tuple(problems)
        first = self._problems[0]
        super().__init__(
            first.message, loc=first.loc, file=first.file, line=first.line, column=first.column, hint=first.hint
        )
        self.args = ("\n".join(p.format() for p in self._problems),)

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self._problems

    def __str__(self) -> str:
        return "\n".join(p.format() for p in self._problems)


class ConvergenceError(CondapproveError, RuntimeError):
    """A numerical procedure (root finding, optimisation) failed to converge."""


class CondapproveWarning(UserWarning):
    """Base class of condapprove's warnings."""


class SmallSampleWarning(CondapproveWarning):
    """A method's large-sample approximation is doubtful at this sample size."""


class DegenerateDataWarning(CondapproveWarning):
    """The data make a quantity degenerate (no events, a single lot, ...); a documented value is returned."""


class MonteCarloPrecisionWarning(CondapproveWarning):
    """A requested Monte-Carlo precision was not reached."""


class DesignWarning(CondapproveWarning):
    """A design is valid but likely hopeless or surprising (e.g. the target cannot be reached in time)."""
