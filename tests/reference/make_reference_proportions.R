# Reference values for condapprove.estimate.proportions, .continuous, .bayes and condapprove.priors.
#
# Run from the repository root:   Rscript tests/reference/make_reference_proportions.R
# Writes tests/reference/proportions.json, continuous.json and bayes.json.
#
# Sources of truth (independent of the Python code):
#   * binom.test (Clopper-Pearson intervals, exact p-values), prop.test(correct = FALSE) (Wilson),
#     qbeta (Jeffreys), uniroot on the mid-p equations, fisher.test, t.test (one-sample, Welch);
#   * Newcombe's hybrid score interval computed from prop.test's Wilson limits by its formula;
#   * beta / normal mixture posteriors (weights, means, P(theta > t), quantiles) by direct numerical
#     integration (integrate) of prior x likelihood -- not by the conjugate formulas;
#   * ELIR ESS by integrating the prior x local information ratio, with the information computed
#     from the mixture density's own first and second derivatives (not the decomposition used in
#     Python); Morita ESS re-implemented from RBesT's formula (RBesT itself is not installed here).
# R version and date are recorded in the JSON files.

suppressPackageStartupMessages(library(jsonlite))

out_dir <- "tests/reference"
meta <- list(r_version = R.version.string, generated = format(Sys.Date()),
             script = "tests/reference/make_reference_proportions.R")
fin <- function(v) if (is.finite(v)) v else NA  # JSON null for infinite bounds
alt_r <- function(a) switch(a, "two-sided" = "two.sided", a)

# ------------------------------------------------------------------------------------------------
# proportions
# ------------------------------------------------------------------------------------------------
cases <- list(c(0, 1), c(1, 1), c(0, 5), c(5, 5), c(1, 10), c(3, 10), c(16, 19), c(12, 13),
              c(0, 20), c(20, 20), c(7, 7), c(4, 6), c(5, 8), c(2, 30), c(25, 50), c(13, 60),
              c(1, 2), c(6, 7), c(4, 8))
levels_two <- c(0.95, 0.90, 0.80, 0.99)

midp_bounds <- function(x, n, tail) {
  lo <- if (x == 0) 0 else uniroot(function(p) pbinom(x, n, p, lower.tail = FALSE) + 0.5 * dbinom(x, n, p) - tail,
                                   c(0, 1), tol = 1e-15)$root
  hi <- if (x == n) 1 else uniroot(function(p) pbinom(x - 1, n, p) + 0.5 * dbinom(x, n, p) - tail,
                                   c(0, 1), tol = 1e-15)$root
  c(lo, hi)
}

interval_rows <- list()
add_interval <- function(x, n, method, level, alternative, low, high) {
  interval_rows[[length(interval_rows) + 1]] <<- list(x = x, n = n, method = method, confidence_level = level,
                                                      alternative = alternative, low = low, high = high)
}
for (cs in cases) {
  x <- cs[1]; n <- cs[2]
  for (alternative in c("two-sided", "greater", "less")) {
    lvls <- if (alternative == "two-sided") levels_two else c(0.95, 0.90)
    for (level in lvls) {
      ci <- binom.test(x, n, alternative = alt_r(alternative), conf.level = level)$conf.int
      add_interval(x, n, "clopper-pearson", level, alternative, ci[1], ci[2])
      ci <- suppressWarnings(prop.test(x, n, correct = FALSE, alternative = alt_r(alternative),
                                       conf.level = level)$conf.int)
      add_interval(x, n, "wilson", level, alternative, ci[1], ci[2])
      tail <- if (alternative == "two-sided") (1 - level) / 2 else 1 - level
      jl <- if (x == 0) 0 else qbeta(tail, x + 0.5, n - x + 0.5)
      jh <- if (x == n) 1 else qbeta(1 - tail, x + 0.5, n - x + 0.5)
      mp <- midp_bounds(x, n, tail)
      if (alternative == "greater") { jh <- 1; mp[2] <- 1 }
      if (alternative == "less") { jl <- 0; mp[1] <- 0 }
      add_interval(x, n, "jeffreys", level, alternative, jl, jh)
      add_interval(x, n, "mid-p", level, alternative, mp[1], mp[2])
    }
  }
}

test_rows <- list()
for (cs in cases) {
  x <- cs[1]; n <- cs[2]
  for (p0 in c(0.1, 0.15, 0.3, 0.5, 0.8, 1 / 3)) {
    for (alternative in c("two-sided", "greater", "less")) {
      pv <- binom.test(x, n, p0, alternative = alt_r(alternative))$p.value
      up <- pbinom(x, n, p0, lower.tail = FALSE) + 0.5 * dbinom(x, n, p0)
      lw <- pbinom(x - 1, n, p0) + 0.5 * dbinom(x, n, p0)
      mid <- switch(alternative, "greater" = up, "less" = lw, "two-sided" = min(1, 2 * min(up, lw)))
      test_rows[[length(test_rows) + 1]] <- list(x = x, n = n, p0 = p0, alternative = alternative,
                                                 pvalue_exact = pv, pvalue_midp = mid)
    }
  }
}

two_cases <- list(c(9, 12, 3, 11), c(0, 5, 0, 5), c(5, 5, 0, 5), c(3, 10, 3, 10), c(16, 19, 3, 19),
                  c(12, 13, 6, 13), c(1, 20, 7, 20), c(0, 10, 10, 10), c(2, 3, 1, 30), c(27, 40, 13, 40),
                  c(35, 46, 6, 15), c(1, 1, 0, 1), c(4, 7, 2, 9), c(10, 10, 9, 10))
newcombe <- function(x1, n1, x2, n2, level2) {
  w1 <- suppressWarnings(prop.test(x1, n1, correct = FALSE, conf.level = level2)$conf.int)
  w2 <- suppressWarnings(prop.test(x2, n2, correct = FALSE, conf.level = level2)$conf.int)
  p1 <- x1 / n1; p2 <- x2 / n2; d <- p1 - p2
  c(d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}
two_rows <- list()
for (cs in two_cases) {
  x1 <- cs[1]; n1 <- cs[2]; x2 <- cs[3]; n2 <- cs[4]
  tab <- matrix(c(x1, x2, n1 - x1, n2 - x2), 2)
  for (alternative in c("two-sided", "greater", "less")) {
    pv <- fisher.test(tab, alternative = alt_r(alternative))$p.value
    for (level in c(0.95, 0.90)) {
      if (alternative == "two-sided") {
        ci <- newcombe(x1, n1, x2, n2, level)
      } else {
        ci <- newcombe(x1, n1, x2, n2, 2 * level - 1)  # one-sided bound uses z = qnorm(level)
        if (alternative == "greater") ci[2] <- 1 else ci[1] <- -1
      }
      two_rows[[length(two_rows) + 1]] <- list(x1 = x1, n1 = n1, x2 = x2, n2 = n2, alternative = alternative,
                                               confidence_level = level, pvalue = pv, low = ci[1], high = ci[2])
    }
  }
}

published <- list(
  list(product = "Delytact", x = 16, n = 19, low = 0.604, high = 0.966, digits = 3,
       source = "1-year survival 16/19, exact 95% CI 60.4-96.6% (approval review)"),
  list(product = "Stemirac", x = 12, n = 13, low = NA, high = NA, digits = NA,
       source = "12/13 improved >= 1 AIS grade; no published interval (binom.test values in intervals)")
)

write_json(list(meta = meta, intervals = interval_rows, binom_test = test_rows, two_proportions = two_rows,
                published = published),
           file.path(out_dir, "proportions.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null")

# ------------------------------------------------------------------------------------------------
# continuous
# ------------------------------------------------------------------------------------------------
set.seed(20240731)
samples <- list(
  a = c(2.1, 3.4, 1.9, 4.2, 2.8),
  b = c(8.1, 9.4, 7.7, 10.2, 8.8),
  c = c(6.0, 7.9, 5.1, 6.6),
  d = c(-1.5, 0.3),
  e = round(rnorm(12, 5, 3), 3),
  f = round(rnorm(30, 1, 0.5), 4),
  g = round(rexp(7, 0.2), 3),
  h = c(100, 100.5, 99.8, 101.2, 100.1, 99.9)
)
t_row <- function(tt, level, alternative) {
  list(statistic = unname(tt$statistic), pvalue = tt$p.value, df = unname(tt$parameter),
       estimate = unname(if (length(tt$estimate) == 2) tt$estimate[1] - tt$estimate[2] else tt$estimate),
       se = tt$stderr, low = fin(tt$conf.int[1]), high = fin(tt$conf.int[2]),
       confidence_level = level, alternative = alternative)
}
one_rows <- list()
for (nm in names(samples)) {
  for (mu0 in c(0, 2, 5)) {
    for (alternative in c("two-sided", "greater", "less")) {
      for (level in c(0.95, 0.9)) {
        tt <- t.test(samples[[nm]], mu = mu0, alternative = alt_r(alternative), conf.level = level)
        one_rows[[length(one_rows) + 1]] <- c(list(sample = nm, mu0 = mu0), t_row(tt, level, alternative))
      }
    }
  }
}
pairs <- list(c("b", "c"), c("a", "e"), c("e", "f"), c("d", "g"), c("g", "a"), c("h", "b"))
welch_rows <- list()
for (pr in pairs) {
  for (mu0 in c(0, 1.5)) {
    for (alternative in c("two-sided", "greater", "less")) {
      for (level in c(0.95, 0.8)) {
        tt <- t.test(samples[[pr[1]]], samples[[pr[2]]], mu = mu0, alternative = alt_r(alternative),
                     conf.level = level, var.equal = FALSE)
        welch_rows[[length(welch_rows) + 1]] <- c(list(x = pr[1], y = pr[2], mu0 = mu0),
                                                  t_row(tt, level, alternative))
      }
    }
  }
}
# Summary statistics: build data with exactly the published mean and SD and run t.test on it.
exact_sample <- function(mean, sd, n) {
  z <- seq(-1, 1, length.out = n)
  as.numeric(scale(z)) * sd + mean
}
summary_cases <- list(
  list(name = "Akuugo", mean1 = 8.3, se1 = 1.4, n1 = 46, mean2 = 2.3, se2 = 2.5, n2 = 15),
  list(name = "small", mean1 = -20.4, se1 = 6.1, n1 = 6, mean2 = -3.0, se2 = 4.0, n2 = 5),
  list(name = "equal", mean1 = 1.0, se1 = 0.5, n1 = 10, mean2 = 0.2, se2 = 0.5, n2 = 10)
)
summary_rows <- list()
for (cs in summary_cases) {
  x <- exact_sample(cs$mean1, cs$se1 * sqrt(cs$n1), cs$n1)
  y <- exact_sample(cs$mean2, cs$se2 * sqrt(cs$n2), cs$n2)
  for (alternative in c("two-sided", "greater", "less")) {
    tw <- t.test(x, y, alternative = alt_r(alternative), conf.level = 0.95)
    t1 <- t.test(x, mu = 0, alternative = alt_r(alternative), conf.level = 0.95)
    summary_rows[[length(summary_rows) + 1]] <- c(cs, list(welch = t_row(tw, 0.95, alternative),
                                                           one_sample = t_row(t1, 0.95, alternative)))
  }
}
write_json(list(meta = meta, samples = samples, one_sample = one_rows, welch = welch_rows,
                summary = summary_rows),
           file.path(out_dir, "continuous.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null")

# ------------------------------------------------------------------------------------------------
# Bayes: conjugate beta, beta mixtures, normal mixtures, ESS
# ------------------------------------------------------------------------------------------------
itg <- function(f, lo, hi) {
  # tight tolerance first; QUADPACK may report round-off at 1e-12 where the result is already exact
  for (tol in c(1e-12, 1e-11, 1e-10)) {
    for (atol in c(0, 1e-15, 1e-13)) {
      r <- tryCatch(integrate(f, lo, hi, rel.tol = tol, abs.tol = atol, subdivisions = 2000L)$value,
                    error = function(e) NULL)
      if (!is.null(r)) return(r)
    }
  }
  stop(sprintf("integration failed on [%g, %g]", lo, hi))
}
# piecewise over sorted break points (keeps narrow peaks from being missed)
itgp <- function(f, breaks) {
  b <- sort(unique(breaks))
  sum(sapply(seq_len(length(b) - 1), function(i) itg(f, b[i], b[i + 1])))
}

beta_rows <- list()
for (pr in list(c(1, 1), c(0.5, 0.5), c(3, 17), c(15, 85))) {
  for (cs in list(c(16, 19), c(12, 13), c(0, 10), c(10, 10), c(5, 40))) {
    a <- pr[1] + cs[1]; b <- pr[2] + cs[2] - cs[1]
    beta_rows[[length(beta_rows) + 1]] <- list(
      prior_a = pr[1], prior_b = pr[2], x = cs[1], n = cs[2],
      mean = a / (a + b), sd = sqrt(a * b / ((a + b)^2 * (a + b + 1))),
      low95 = qbeta(0.025, a, b), high95 = qbeta(0.975, a, b), low80 = qbeta(0.1, a, b), high80 = qbeta(0.9, a, b),
      prob_greater = list(t = c(0.15, 0.5, 0.8), p = pbeta(c(0.15, 0.5, 0.8), a, b, lower.tail = FALSE)))
  }
}

# Beta mixtures: posterior by numerical integration of prior x binomial likelihood
dmixbeta <- function(p, w, a, b) rowSums(matrix(sapply(seq_along(w), function(k) w[k] * dbeta(p, a[k], b[k])), nrow = length(p)))
mix_rows <- list()
mix_priors <- list(
  list(w = c(0.8, 0.2), a = c(15, 1), b = c(85, 1)),
  list(w = c(0.5, 0.3, 0.2), a = c(4, 10, 1), b = c(16, 10, 1)),
  list(w = c(0.6, 0.4), a = c(2.5, 30), b = c(7.5, 10)),
  list(w = c(0.9, 0.1), a = c(20, 0.6), b = c(60, 1.4))
)
for (pr in mix_priors) {
  for (cs in list(c(16, 19), c(12, 13), c(2, 15), c(0, 5), c(0, 0))) {
    x <- cs[1]; n <- cs[2]
    f <- function(p) dmixbeta(p, pr$w, pr$a, pr$b) * dbinom(x, n, p)
    Z <- itg(f, 0, 1)
    wpost <- sapply(seq_along(pr$w), function(k) pr$w[k] * itg(function(p) dbeta(p, pr$a[k], pr$b[k]) * dbinom(x, n, p), 0, 1)) / Z
    m <- itg(function(p) p * f(p), 0, 1) / Z
    m2 <- itg(function(p) p^2 * f(p), 0, 1) / Z
    ts <- c(0.1, 0.3, 0.5, 0.8)
    pg <- sapply(ts, function(t) itg(f, t, 1) / Z)
    cdf <- function(q) itg(f, 0, q) / Z
    qs <- c(0.025, 0.5, 0.975)
    qv <- sapply(qs, function(q) uniroot(function(t) cdf(t) - q, c(1e-12, 1 - 1e-12), tol = 1e-14)$root)
    mix_rows[[length(mix_rows) + 1]] <- list(
      weights = pr$w, a = pr$a, b = pr$b, x = x, n = n,
      post_weights = wpost, mean = m, sd = sqrt(m2 - m^2),
      prob_greater = list(t = ts, p = pg), quantiles = list(q = qs, value = qv))
  }
}

# Normal mixtures: posterior given an estimate with known SE
dmixnorm <- function(t, w, m, s) rowSums(matrix(sapply(seq_along(w), function(k) w[k] * dnorm(t, m[k], s[k])), nrow = length(t)))
nmix_rows <- list()
nmix_priors <- list(
  list(w = c(0.8, 0.2), m = c(3, 0), s = c(1, 10)),
  list(w = c(0.5, 0.5), m = c(0, 3), s = c(2, 4)),
  list(w = c(1), m = c(0), s = c(5)),
  list(w = c(0.3, 0.5, 0.2), m = c(-1, 2, 6), s = c(0.5, 1.5, 3))
)
for (pr in nmix_priors) {
  for (cs in list(c(6.0, 2.865), c(0, 1), c(-2, 0.5), c(10, 4))) {
    y <- cs[1]; se <- cs[2]
    f <- function(t) dmixnorm(t, pr$w, pr$m, pr$s) * dnorm(y, t, se)
    lo <- -80; hi <- 80
    br <- c(lo, hi, y + (-8:8) * se, as.vector(outer(seq_along(pr$m), -8:8, function(k, j) pr$m[k] + j * pr$s[k])))
    br <- br[br >= lo & br <= hi]
    Z <- itgp(f, br)
    wpost <- sapply(seq_along(pr$w), function(k) pr$w[k] * itgp(function(t) dnorm(t, pr$m[k], pr$s[k]) * dnorm(y, t, se), br)) / Z
    m <- itgp(function(t) t * f(t), c(br, 0)) / Z
    m2 <- itgp(function(t) t^2 * f(t), br) / Z
    ts <- c(0, 2, 5)
    pg <- sapply(ts, function(t) itgp(f, c(t, br[br > t])) / Z)
    cdf <- function(q) itgp(f, c(br[br < q], q)) / Z
    qs <- c(0.025, 0.5, 0.975)
    qv <- sapply(qs, function(q) uniroot(function(t) cdf(t) - q, c(-50, 50), tol = 1e-13)$root)
    nmix_rows[[length(nmix_rows) + 1]] <- list(
      weights = pr$w, means = pr$m, sds = pr$s, estimate = y, se = se,
      post_weights = wpost, mean = m, sd = sqrt(m2 - m^2),
      prob_greater = list(t = ts, p = pg), quantiles = list(q = qs, value = qv))
  }
}

# ESS. Local information i(t) = (p'/p)^2 - p''/p from the mixture's own derivatives.
beta_info <- function(t, w, a, b) {
  pk <- sapply(seq_along(w), function(k) w[k] * dbeta(t, a[k], b[k]))
  pk <- matrix(pk, nrow = length(t))
  g <- sapply(seq_along(w), function(k) (a[k] - 1) / t - (b[k] - 1) / (1 - t)); g <- matrix(g, nrow = length(t))
  h <- sapply(seq_along(w), function(k) -(a[k] - 1) / t^2 - (b[k] - 1) / (1 - t)^2); h <- matrix(h, nrow = length(t))
  p <- rowSums(pk); d1 <- rowSums(pk * g); d2 <- rowSums(pk * (g^2 + h))
  ifelse(p > 0, (d1 / p)^2 - d2 / p, 0)  # only ever multiplied by p: 0 where p underflows
}
norm_info <- function(t, w, m, s) {
  pk <- matrix(sapply(seq_along(w), function(k) w[k] * dnorm(t, m[k], s[k])), nrow = length(t))
  g <- matrix(sapply(seq_along(w), function(k) -(t - m[k]) / s[k]^2), nrow = length(t))
  h <- matrix(sapply(seq_along(w), function(k) rep(-1 / s[k]^2, length(t))), nrow = length(t))
  p <- rowSums(pk); d1 <- rowSums(pk * g); d2 <- rowSums(pk * (g^2 + h))
  ifelse(p > 0, (d1 / p)^2 - d2 / p, 0)  # only ever multiplied by p: 0 where p underflows
}
ess_beta_rows <- list()
ess_beta_priors <- list(
  list(w = c(1), a = c(5), b = c(15)),
  list(w = c(1), a = c(2.5), b = c(1.5)),
  list(w = c(0.8, 0.2), a = c(10, 1), b = c(2, 1)),
  list(w = c(0.5, 0.5), a = c(4, 12), b = c(16, 4)),
  list(w = c(0.6, 0.3, 0.1), a = c(20, 3, 2), b = c(60, 3, 2)),
  list(w = c(0.7, 0.3), a = c(15, 1.5), b = c(85, 1.5))
)
for (pr in ess_beta_priors) {
  elir <- itg(function(t) dmixbeta(t, pr$w, pr$a, pr$b) * beta_info(t, pr$w, pr$a, pr$b) * t * (1 - t), 0, 1)
  m <- sum(pr$w * pr$a / (pr$a + pr$b))
  v <- sum(pr$w * pr$a * (pr$a + 1) / ((pr$a + pr$b) * (pr$a + pr$b + 1))) - m^2
  moment <- m * (1 - m) / v - 1
  # Morita as in RBesT (mode-based, s = 100)
  mode <- optimize(function(t) dmixbeta(t, pr$w, pr$a, pr$b), c(1e-9, 1 - 1e-9), maximum = TRUE, tol = 1e-12)$maximum
  grid <- seq(1e-6, 1 - 1e-6, length.out = 20001)
  gm <- grid[which.max(dmixbeta(grid, pr$w, pr$a, pr$b))]
  if (abs(gm - mode) > 1e-3) mode <- optimize(function(t) dmixbeta(t, pr$w, pr$a, pr$b), c(gm - 1e-3, gm + 1e-3), maximum = TRUE, tol = 1e-12)$maximum
  s <- 100
  info0 <- (mode / s - 1) / mode^2 + ((1 - mode) / s - 1) / (1 - mode)^2
  einfo <- (1 - m) / (1 - mode)^2 + m / mode^2
  morita <- (beta_info(mode, pr$w, pr$a, pr$b) - info0) / einfo
  ess_beta_rows[[length(ess_beta_rows) + 1]] <- list(weights = pr$w, a = pr$a, b = pr$b, elir = elir,
                                                     moment = moment, morita = morita, mode = mode)
}
ess_norm_rows <- list()
ess_norm_priors <- list(
  list(w = c(1), m = c(0), s = c(2), sigma = 10),
  list(w = c(0.5, 0.5), m = c(0, 3), s = c(2, 4), sigma = 10),
  list(w = c(0.8, 0.2), m = c(3, 0), s = c(1, 10), sigma = 10),
  list(w = c(0.3, 0.5, 0.2), m = c(-1, 2, 6), s = c(0.5, 1.5, 3), sigma = 4)
)
for (pr in ess_norm_priors) {
  br <- c(-80, 80, as.vector(outer(seq_along(pr$m), -8:8, function(k, j) pr$m[k] + j * pr$s[k])))
  br <- br[br >= -80 & br <= 80]
  elir <- pr$sigma^2 * itgp(function(t) dmixnorm(t, pr$w, pr$m, pr$s) * norm_info(t, pr$w, pr$m, pr$s), br)
  mu <- sum(pr$w * pr$m); v <- sum(pr$w * (pr$s^2 + pr$m^2)) - mu^2
  lo <- min(pr$m - 8 * pr$s); hi <- max(pr$m + 8 * pr$s)
  grid <- seq(lo, hi, length.out = 40001)
  gm <- grid[which.max(dmixnorm(grid, pr$w, pr$m, pr$s))]
  mode <- optimize(function(t) dmixnorm(t, pr$w, pr$m, pr$s), c(gm - 1e-2, gm + 1e-2), maximum = TRUE, tol = 1e-12)$maximum
  morita <- (norm_info(mode, pr$w, pr$m, pr$s) - 1 / (100 * max(pr$s^2))) * pr$sigma^2
  ess_norm_rows[[length(ess_norm_rows) + 1]] <- list(weights = pr$w, means = pr$m, sds = pr$s, sigma_ref = pr$sigma,
                                                     elir = elir, moment = pr$sigma^2 / v, morita = morita, mode = mode)
}

# Beta-binomial predictive pmf
pred_rows <- list()
for (cs in list(list(w = c(1), a = c(17), b = c(4), n = 10), list(w = c(1), a = c(2), b = c(3), n = 4),
                list(w = c(0.8, 0.2), a = c(15, 1), b = c(85, 1), n = 20))) {
  k <- 0:cs$n
  pmf <- rowSums(sapply(seq_along(cs$w), function(j) cs$w[j] * choose(cs$n, k) * beta(k + cs$a[j], cs$n - k + cs$b[j]) / beta(cs$a[j], cs$b[j])))
  pred_rows[[length(pred_rows) + 1]] <- list(weights = cs$w, a = cs$a, b = cs$b, n = cs$n, pmf = pmf, cdf = cumsum(pmf))
}

write_json(list(meta = meta, beta = beta_rows, beta_mixture = mix_rows, normal_mixture = nmix_rows,
                ess_beta = ess_beta_rows, ess_normal = ess_norm_rows, predictive = pred_rows),
           file.path(out_dir, "bayes.json"), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null")
cat("wrote proportions.json, continuous.json, bayes.json\n")
