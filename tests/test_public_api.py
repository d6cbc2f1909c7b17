"""Every name the public API promises resolves."""

from __future__ import annotations

import importlib

import condapprove
import condapprove.estimate as est


def test_top_level_names_resolve() -> None:
    for name in condapprove.__all__:
        assert getattr(condapprove, name) is not None, name


def test_estimate_names_resolve_to_their_submodule() -> None:
    for name in est.__all__:
        obj = getattr(est, name)
        mod = importlib.import_module(f"condapprove.estimate.{est._EXPORTS[name]}")
        assert getattr(mod, name) is obj


def test_issue_names() -> None:
    from condapprove.estimate import beta_posterior, binomial_interval, kaplan_meier, random_effects
    from condapprove.priors import Beta, BetaMixture

    assert binomial_interval(16, 19).low == condapprove.estimate.binomial_interval(16, 19, method="clopper-pearson").low
    assert callable(kaplan_meier) and callable(random_effects)
    post = beta_posterior(16, 19, prior=Beta(1, 1))
    assert 0.0 <= post.prob_greater(0.15) <= 1.0
    assert BetaMixture([1.0], [1.0], [1.0]).mean == 0.5


def test_all_lists_exactly_the_lazy_names() -> None:
    assert set(condapprove.__all__) == {"__version__", *condapprove._EXPORTS, *condapprove._SUBMODULES}
