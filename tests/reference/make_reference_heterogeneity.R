# Reference values for condapprove.estimate.heterogeneity.
#
# Run from the repository root:  Rscript tests/reference/make_reference_heterogeneity.R
# Needs metafor (>= 3.8) and jsonlite.  Writes
#   tests/reference/heterogeneity_rma.json     metafor rma(), confint(), predict(), weights()
#   tests/reference/heterogeneity_escalc.json  metafor escalc("PLO") and escalc("MN")
#   tests/reference/heterogeneity_bayes.json   normal-normal hierarchical model with a half-normal
#                                              prior on tau, by brute-force numerical integration
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

out_dir <- "tests/reference"
ctrl <- list(threshold = 1e-10, maxiter = 1000, tol = 1e-12)
ci_ctrl <- list(tol = 1e-12, tau2.max = 1e4)

# ---------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
plo <- function(x, n) escalc("PLO", xi = x, ni = n)

datasets <- list()
add <- function(name, yi, vi, note) {
  datasets[[name]] <<- list(name = name, note = note, yi = as.numeric(yi), vi = as.numeric(vi))
}
add("bcg", bcg$yi, bcg$vi, "metafor dat.bcg, log risk ratios (escalc 'RR'), k = 13")
d <- plo(c(3, 7), c(10, 12));            add("k2_logodds", d$yi, d$vi, "k = 2 lots, log odds")
d <- plo(c(0, 4, 6), c(8, 9, 10));       add("k3_zero_cell", d$yi, d$vi, "k = 3 lots, one with 0 events")
d <- escalc("MN", mi = c(12.1, 10.4, 13.0, 11.2), sdi = c(3.2, 2.8, 4.1, 3.5), ni = c(8, 10, 7, 12))
add("k4_means", d$yi, d$vi, "k = 4 lots, means")
d <- plo(c(4, 6, 2, 7, 5), c(10, 9, 8, 10, 11)); add("k5_logodds", d$yi, d$vi, "k = 5 lots, log odds")
d <- plo(c(9, 10, 7, 10, 8), c(10, 10, 9, 10, 12))
add("k5_all_events", d$yi, d$vi, "k = 5 lots, two with events = n")
add("k3_unequal", c(0.5, 1.8, -0.3), c(0.1, 0.3, 0.05), "k = 3, unequal variances")
add("homogeneous", c(0.10, 0.12, 0.09, 0.11, 0.10), c(0.04, 0.05, 0.03, 0.06, 0.05),
    "tau2 = 0 for every estimator; Q-profile interval empty")
add("heterogeneous", c(-2.1, 0.3, 1.4, 3.2, 5.0, -0.7), c(0.02, 0.05, 0.01, 0.04, 0.03, 0.02),
    "very heterogeneous, precise lots")
add("k2_equal_var", c(0.2, 1.1), c(0.25, 0.25), "k = 2 lots with equal variances")
add("ml_local_max", c(1.94, -2.82, -2.60, -2.78), c(2.62, 0.094, 2.03, 2.87),
    "ML Fisher scoring stops at a local maximum (tau2 ~ 1.05); metafor warns and sets tau2 = 0")

# ---------------------------------------------------------------------------
# Frequentist random-effects models (metafor)
# ---------------------------------------------------------------------------
methods <- c("REML", "DL", "PM", "ML")
tests <- c(z = "z", "hartung-knapp" = "knha")
rma_cases <- list()
for (ds in datasets) {
  k <- length(ds$yi)
  ci_levels <- c(0.95, 0.90, 0.80)
  qp <- lapply(ci_levels, function(lev) {
    f <- rma(ds$yi, ds$vi, method = "REML", control = ctrl)
    cr <- confint(f, level = lev * 100, control = ci_ctrl)
    list(level = lev, tau2_lb = cr$random["tau^2", "ci.lb"], tau2_ub = cr$random["tau^2", "ci.ub"],
         i2_lb = cr$random["I^2(%)", "ci.lb"] / 100, i2_ub = cr$random["I^2(%)", "ci.ub"] / 100,
         null_set = isTRUE(cr$ci.null))
  })
  fits <- list()
  for (m in methods) for (tn in names(tests)) {
    warned <- FALSE
    f <- withCallingHandlers(rma(ds$yi, ds$vi, method = m, test = tests[[tn]], control = ctrl),
                             warning = function(w) { warned <<- TRUE; invokeRestart("muffleWarning") })
    f90 <- suppressWarnings(rma(ds$yi, ds$vi, method = m, test = tests[[tn]], control = ctrl, level = 90))
    p95 <- predict(f, level = 95)
    p80 <- predict(f, level = 80)
    pr <- if (k >= 3) predict(f, level = 95, pi.type = "riley") else NULL
    fits[[length(fits) + 1]] <- list(
      method = m, test = tn, warned = warned,
      estimate = as.numeric(f$beta), se = f$se, statistic = f$zval, pvalue = f$pval,
      ci_lb = f$ci.lb, ci_ub = f$ci.ub, ci90_lb = f90$ci.lb, ci90_ub = f90$ci.ub,
      tau2 = f$tau2, i2 = f$I2 / 100, h2 = f$H2, q = f$QE, q_pvalue = f$QEp,
      weights = as.numeric(weights(f)) / 100,
      pi95_lb = p95$pi.lb, pi95_ub = p95$pi.ub, pi80_lb = p80$pi.lb, pi80_ub = p80$pi.ub,
      pi95_riley_lb = if (is.null(pr)) NA else pr$pi.lb,
      pi95_riley_ub = if (is.null(pr)) NA else pr$pi.ub
    )
  }
  rma_cases[[length(rma_cases) + 1]] <- list(name = ds$name, note = ds$note, yi = ds$yi, vi = ds$vi,
                                             qprofile = qp, fits = fits)
}
writeLines(toJSON(list(
  generator = "tests/reference/make_reference_heterogeneity.R",
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  control = ctrl, confint_control = ci_ctrl,
  cases = rma_cases), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
  file.path(out_dir, "heterogeneity_rma.json"))

# ---------------------------------------------------------------------------
# escalc
# ---------------------------------------------------------------------------
esc <- list()
for (cs in list(list(x = c(0, 3, 8), n = c(8, 10, 8)), list(x = c(4, 6, 2, 7, 5), n = c(10, 9, 8, 10, 11)),
                list(x = c(0, 0, 1), n = c(5, 12, 1)), list(x = c(10, 1), n = c(10, 30)))) {
  for (add_ in c(0.5, 1)) {
    d <- escalc("PLO", xi = cs$x, ni = cs$n, add = add_, to = "only0")
    esc[[length(esc) + 1]] <- list(measure = "log_odds", events = cs$x, n = cs$n, correction = add_,
                                   yi = as.numeric(d$yi), vi = as.numeric(d$vi))
  }
}
d <- escalc("MN", mi = c(12.1, 10.4, 13.0, 11.2), sdi = c(3.2, 2.8, 4.1, 3.5), ni = c(8, 10, 7, 12))
esc[[length(esc) + 1]] <- list(measure = "mean", mean = c(12.1, 10.4, 13.0, 11.2), sd = c(3.2, 2.8, 4.1, 3.5),
                               n = c(8, 10, 7, 12), yi = as.numeric(d$yi), vi = as.numeric(d$vi))
writeLines(toJSON(list(generator = "tests/reference/make_reference_heterogeneity.R",
                       metafor_version = as.character(packageVersion("metafor")), cases = esc),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(out_dir, "heterogeneity_escalc.json"))

# ---------------------------------------------------------------------------
# Bayesian normal-normal model, half-normal(s) prior on tau, N(m0, s0^2) (or flat) prior on mu.
# Brute force: the joint density p(y | mu, tau) p(mu) p(tau) written as a product of normal
# densities (y_i | mu, tau ~ N(mu, v_i + tau^2)) is integrated over mu with integrate() inside an
# integrate() over tau.  No conjugacy is used for the means, variances and probabilities.
# Quantiles (intervals, medians) invert CDFs computed by a 1-D integrate() over tau of the
# closed-form conditional distributions (mu | tau, y normal), written independently here.
# ---------------------------------------------------------------------------
rtol <- 1e-11
atol <- 1e-15  # absolute tolerance: integrands are scaled to O(1) at the mode

closed_form <- function(tau, y, v, s, m0, s0) {
  # log p(y | tau) p(tau) with mu integrated out, conditional mean M and precision P of mu
  sapply(tau, function(t) {
    w <- 1 / (v + t^2)
    pp <- if (is.finite(s0)) 1 / s0^2 else 0
    P <- sum(w) + pp
    M <- (sum(w * y) + pp * m0) / P
    ll <- -0.5 * sum(log(v + t^2)) - 0.5 * log(P) - 0.5 * sum(w * (y - M)^2)
    if (is.finite(s0)) ll <- ll - 0.5 * (M - m0)^2 / s0^2 - log(s0)
    c(logpost = ll + dnorm(t, 0, s, log = TRUE), M = M, P = P)
  })
}

bayes_case <- function(name, y, v, s, m0, s0, cuts) {
  k <- length(y)
  # range of tau holding the posterior: grid search on the closed form (used only to place limits)
  tg <- seq(0, 40 * s + 10 * sd(c(y, y[1] + 1)), length.out = 20001)
  lg <- closed_form(tg, y, v, s, m0, s0)["logpost", ]
  keep <- which(lg > max(lg) - 60)
  t_lo <- tg[max(1, min(keep) - 1)]
  t_hi <- tg[min(length(tg), max(keep) + 1)]
  breaks <- seq(t_lo, t_hi, length.out = 41)
  C <- max(lg)
  # log joint at (mu, tau); mu may be a vector
  logjoint <- function(mu, t) {
    sdv <- sqrt(v + t^2)
    lj <- rowSums(dnorm(outer(mu, y, function(m, yy) yy - m), 0, rep(sdv, each = length(mu)), log = TRUE))
    if (is.finite(s0)) lj <- lj + dnorm(mu, m0, s0, log = TRUE)
    lj + log(2) + dnorm(t, 0, s, log = TRUE)
  }
  Cj <- C - 0.5 * (k - 1) * log(2 * pi) + log(2) - if (is.finite(s0)) 0.5 * log(2 * pi) else 0
  inner <- function(t, f) {
    sdmax <- sqrt(max(v) + t^2)
    lo <- min(c(y, if (is.finite(s0)) m0)) - 14 * sdmax
    hi <- max(c(y, if (is.finite(s0)) m0)) + 14 * sdmax
    # break at the data, at the cut points and around them (pnorm((mu - c) / t) is steep for small t)
    extra <- c(y, outer(cuts, c(0, -1, 1, -3, 3, -10, 10) * t, "+"))
    pts <- sort(unique(c(lo, extra[extra > lo & extra < hi], hi)))
    tot <- 0
    for (j in seq_len(length(pts) - 1)) {
      tot <- tot + integrate(function(mu) f(mu, t) * exp(logjoint(mu, t) - Cj), pts[j], pts[j + 1],
                             rel.tol = rtol, abs.tol = atol, subdivisions = 1000L)$value
    }
    tot
  }
  int2d <- function(f) {
    tot <- 0
    for (j in seq_len(length(breaks) - 1)) {
      tot <- tot + integrate(function(tt) sapply(tt, function(t) inner(t, f)), breaks[j], breaks[j + 1],
                             rel.tol = rtol, abs.tol = atol, subdivisions = 1000L)$value
    }
    tot
  }
  Z <- int2d(function(mu, t) 1)
  e_mu <- int2d(function(mu, t) mu) / Z
  e_mu2 <- int2d(function(mu, t) mu^2) / Z
  e_tau <- int2d(function(mu, t) t) / Z
  e_tau2 <- int2d(function(mu, t) t^2) / Z
  p_mu <- sapply(cuts, function(c) int2d(function(mu, t) as.numeric(mu > c)) / Z)
  p_new <- sapply(cuts, function(c) int2d(function(mu, t) pnorm((mu - c) / t)) / Z)
  # 1-D closed-form CDFs for quantiles
  oned <- function(f) {
    tot <- 0
    for (j in seq_len(length(breaks) - 1)) {
      tot <- tot + integrate(function(tt) {
        cf <- closed_form(tt, y, v, s, m0, s0)
        exp(cf["logpost", ] - C) * f(tt, cf["M", ], cf["P", ])
      }, breaks[j], breaks[j + 1], rel.tol = rtol, abs.tol = atol, subdivisions = 1000L)$value
    }
    tot
  }
  Z1 <- oned(function(t, M, P) 1)
  cdf_mu <- function(x) oned(function(t, M, P) pnorm((x - M) * sqrt(P))) / Z1
  cdf_new <- function(x) oned(function(t, M, P) pnorm((x - M) / sqrt(1 / P + t^2))) / Z1
  cdf_tau <- function(x) {
    if (x <= t_lo) return(0)
    integrate(function(tt) exp(closed_form(tt, y, v, s, m0, s0)["logpost", ] - C), t_lo, x,
              rel.tol = rtol, abs.tol = atol, subdivisions = 1000L)$value / Z1
  }
  q <- function(cdf, p, lo, hi) uniroot(function(x) cdf(x) - p, c(lo, hi), tol = 1e-13, maxiter = 1000)$root
  sd_mu <- sqrt(e_mu2 - e_mu^2)
  sd_new <- sqrt(e_mu2 + e_tau2 - e_mu^2)
  lo_mu <- e_mu - 30 * sd_mu; hi_mu <- e_mu + 30 * sd_mu
  lo_new <- e_mu - 30 * sd_new; hi_new <- e_mu + 30 * sd_new
  res <- list(
    name = name, yi = y, vi = v, tau_prior_scale = s, mu_prior_mean = m0,
    mu_prior_sd = if (is.finite(s0)) s0 else "inf", cuts = cuts,
    check_log_z_2d_vs_1d = log(Z) - log(Z1),
    mu_mean = e_mu, mu_sd = sd_mu, mu_prob_greater = p_mu,
    tau_mean = e_tau, tau_sd = sqrt(e_tau2 - e_tau^2),
    predictive_mean = e_mu, predictive_sd = sd_new, predictive_prob_greater = p_new,
    mu_q025 = q(cdf_mu, 0.025, lo_mu, hi_mu), mu_q975 = q(cdf_mu, 0.975, lo_mu, hi_mu),
    mu_q05 = q(cdf_mu, 0.05, lo_mu, hi_mu), mu_q95 = q(cdf_mu, 0.95, lo_mu, hi_mu),
    tau_median = q(cdf_tau, 0.5, t_lo, t_hi),
    tau_q025 = q(cdf_tau, 0.025, t_lo, t_hi), tau_q975 = q(cdf_tau, 0.975, t_lo, t_hi),
    predictive_q025 = q(cdf_new, 0.025, lo_new, hi_new), predictive_q975 = q(cdf_new, 0.975, lo_new, hi_new)
  )
  # the 2-D (brute force) and 1-D (closed form) computations must agree
  stopifnot(abs(res$check_log_z_2d_vs_1d) < 1e-9)
  stopifnot(abs(cdf_mu(cuts[1]) - (1 - p_mu[1])) < 1e-9)
  message(name, ": log Z 2-D vs 1-D ", signif(res$check_log_z_2d_vs_1d, 3))
  res
}

b <- list()
d <- datasets
b[[1]] <- bayes_case("k5_logodds_s05_flat", d$k5_logodds$yi, d$k5_logodds$vi, 0.5, 0, Inf, c(0, 0.5))
b[[2]] <- bayes_case("k3_zero_cell_s1_normal", d$k3_zero_cell$yi, d$k3_zero_cell$vi, 1, 0, 2, c(0, -1))
b[[3]] <- bayes_case("k2_logodds_s025_flat", d$k2_logodds$yi, d$k2_logodds$vi, 0.25, 0, Inf, c(0, 1))
b[[4]] <- bayes_case("heterogeneous_s05_flat", d$heterogeneous$yi, d$heterogeneous$vi, 0.5, 0, Inf, c(0, 1))
b[[5]] <- bayes_case("bcg_s05_normal", d$bcg$yi, d$bcg$vi, 0.5, -0.2, 1.5, c(0, -0.5))
b[[6]] <- bayes_case("k1_s05_flat", 0.7, 0.2, 0.5, 0, Inf, c(0, 1))
b[[7]] <- bayes_case("homogeneous_s1_flat", d$homogeneous$yi, d$homogeneous$vi, 1, 0, Inf, c(0, 0.2))
b[[8]] <- bayes_case("k4_means_s2_normal", d$k4_means$yi, d$k4_means$vi, 2, 10, 5, c(11, 12))
writeLines(toJSON(list(generator = "tests/reference/make_reference_heterogeneity.R",
                       r_version = R.version.string, integrate_rel_tol = rtol, integrate_abs_tol = atol, cases = b),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(out_dir, "heterogeneity_bayes.json"))
cat("done\n")
