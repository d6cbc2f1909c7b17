# Reference values for condapprove.estimate.survival.
#
# Run from the repository root:
#     Rscript tests/reference/make_reference_survival.R
# Writes tests/reference/survival.json.  Needs R packages survival (>= 3.5) and jsonlite.
#
# What is computed, per data set:
#   * Kaplan-Meier with log-log intervals: survfit(Surv(time, status) ~ 1, conf.type = "log-log")
#     at conf.int 0.95 and 0.90: the full table, quantile(fit, 0.5) (median and its interval), the median
#     printed by print.survfit (survmean's "minmin" rule) and summary(fit, times, extend = TRUE) at landmarks.
#   * Two-sample: survdiff (chi-square, observed, expected, variance) and coxph(ties = "efron") on a 0/1
#     covariate (coefficient of group 1 against group 0).
#   * One-sample log-rank against parametric reference curves, computed by hand from the cumulative hazard
#     (O = events, E = sum Lambda0(t_i)); exact Poisson p-values with ppois and the O/E interval with
#     poisson.test(O, E).
#   * Exponential rate: events / exposure, poisson.test interval, survreg(dist = "exponential") MLE.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

levels <- c(0.95, 0.90)

# ------------------------------------------------------------------ data sets (one sample)
km_sets <- list()
add_km <- function(name, time, status, landmarks) {
  km_sets[[length(km_sets) + 1]] <<- list(name = name, time = time, status = status, landmarks = landmarks)
}

add_km("ties_small", c(1, 1, 2, 2, 2, 3, 4, 4, 5, 6), c(1, 0, 1, 1, 0, 1, 0, 1, 1, 0), c(0.5, 2, 3.5, 6))
add_km("median_midpoint", c(1, 2, 3, 4), c(1, 1, 1, 1), c(1, 2.5, 4))
add_km("median_at_end", c(1, 2, 3, 4), c(1, 1, 0, 0), c(1.5, 2, 4))
add_km("last_is_event", c(2, 3, 3, 5, 7, 8), c(1, 0, 1, 1, 0, 1), c(3, 7.5, 8))
add_km("heavy_censoring", c(0.5, 1.2, 2, 2.5, 3, 3, 4.1, 5, 6, 7.5, 9, 12), c(0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0),
       c(3, 6, 12))
add_km("single_event", c(5), c(1), c(4, 5))
add_km("all_censored", c(1, 2, 3, 4, 5), c(0, 0, 0, 0, 0), c(3))

# Delytact-like: 19 patients, 3 deaths before 12 months, 16 alive at 12 months, then followed up to 36 months.
set.seed(2021)
early <- sort(round(runif(3, 1, 11.5), 1))
late <- round(12 + rexp(16, rate = log(2) / 18), 1)
cens <- round(runif(16, 13, 36), 1)
dely_time <- c(early, pmin(late, cens))
dely_status <- c(rep(1, 3), as.numeric(late <= cens))
add_km("delytact_like", dely_time, dely_status, c(6, 12, 24))

# Simulated small cohorts, times rounded to whole months (ties), uniform administrative censoring.
sim_one <- function(seed, n, median, cmax) {
  set.seed(seed)
  t <- ceiling(rexp(n, log(2) / median))
  c <- ceiling(runif(n, 2, cmax))
  list(time = pmin(t, c), status = as.numeric(t <= c))
}
for (spec in list(list(11, 10, 8, 20), list(12, 15, 12, 24), list(13, 20, 10, 18))) {
  d <- sim_one(spec[[1]], spec[[2]], spec[[3]], spec[[4]])
  add_km(sprintf("sim_n%d", spec[[2]]), d$time, d$status, c(6, 12))
}

km_block <- function(time, status, landmarks, level) {
  fit <- survfit(Surv(time, status) ~ 1, conf.type = "log-log", conf.int = level)
  q <- quantile(fit, 0.5)
  tab <- summary(fit, censored = TRUE)
  pr <- summary(fit)$table
  lm <- summary(fit, times = landmarks, extend = TRUE)
  list(
    level = level,
    time = I(fit$time), n_risk = I(fit$n.risk), n_event = I(fit$n.event), n_censor = I(fit$n.censor),
    surv = I(fit$surv), std_err_log = I(fit$std.err), lower = I(fit$lower), upper = I(fit$upper),
    median = unname(q$quantile), median_lower = unname(q$lower), median_upper = unname(q$upper),
    print_median = unname(pr["median"]),
    print_lcl = unname(pr[paste0(level, "LCL")]), print_ucl = unname(pr[paste0(level, "UCL")]),
    landmarks = I(lm$time), landmark_surv = I(lm$surv), landmark_lower = I(lm$lower),
    landmark_upper = I(lm$upper)
  )
}

km_out <- lapply(km_sets, function(s) {
  list(name = s$name, durations = I(s$time), event_observed = I(s$status),
       fits = lapply(levels, function(l) km_block(s$time, s$status, s$landmarks, l)))
})

# ------------------------------------------------------------------ two-sample
two_sets <- list()
add_two <- function(name, time, status, group, cox = TRUE) {
  two_sets[[length(two_sets) + 1]] <<- list(name = name, time = time, status = status, group = group, cox = cox)
}
# aml: group 1 = Nonmaintained, group 0 = Maintained
add_two("aml", aml$time, aml$status, as.numeric(aml$x == "Nonmaintained"))
add_two("ties_two", c(1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 7, 7), c(1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1),
        c(0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1))
add_two("no_events_group1", c(1, 2, 3, 4, 5, 2, 4, 6, 8), c(1, 1, 0, 1, 1, 0, 0, 0, 0),
        c(0, 0, 0, 0, 0, 1, 1, 1, 1), cox = FALSE)
# one treated patient, whose event is tied with control events: lifelines' full first Newton step overflows here
add_two("single_treated_tied", c(1, 1, 2, 2, 3, 4, 4, 5, 8, 10, 11, 14, 20, 22, 25),
        c(1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0), c(1, rep(0, 14)))
set.seed(31)
for (k in 1:3) {
  n0 <- c(10, 8, 19)[k]
  n1 <- c(10, 12, 19)[k]
  t0 <- ceiling(rexp(n0, log(2) / 6))
  t1 <- ceiling(rexp(n1, log(2) / c(10, 6, 14)[k]))
  c0 <- ceiling(runif(n0, 3, 18))
  c1 <- ceiling(runif(n1, 3, 18))
  add_two(sprintf("sim_two_%d", k), c(pmin(t0, c0), pmin(t1, c1)), c(as.numeric(t0 <= c0), as.numeric(t1 <= c1)),
          c(rep(0, n0), rep(1, n1)))
}

# 160 patients in whole months: lifelines stopped 3e-7 short of the maximum here with a Newton-decrement precision of
# 1e-12 (the seed is the worst of 40 tried)
set.seed(34)
t0 <- ceiling(rexp(80, log(2) / 6))
t1 <- ceiling(rexp(80, log(2) / 8))
c0 <- ceiling(runif(80, 2, 12))
c1 <- ceiling(runif(80, 2, 12))
add_two("months_160", c(pmin(t0, c0), pmin(t1, c1)), c(as.numeric(t0 <= c0), as.numeric(t1 <= c1)),
        c(rep(0, 80), rep(1, 80)))

# Three controls with early events against 36 treated patients, and three against 20 (one time 1e-10 from another,
# merged into a tie as by timefix): a strong effect that lifelines' Newton-Raphson, used before the forty-fifth
# round, got wrong without a warning (log HR +0.886 for -2.749) and refused (no convergence), found by a randomised
# comparison with coxph (the partial likelihood is concave: condapprove now solves its score equation directly)
add_two("three_controls_36", c(6, 1, 1, 23, 12, 27, 5, 29, 77, 4, 31, 40, 47, 65, 37, 10, 54, 19, 15, 6, 6, 14, 4, 50,
                               31, 59, 54, 34, 17, 25, 52, 55, 66, 14, 74, 37, 66, 52, 4),
        c(1, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0,
          1),
        c(0, 0, 0, rep(1, 36)))
add_two("three_controls_20", c(3, 7.0000000001, 1, 6, 39, 39, 18, 6, 6, 42, 48, 12, 9, 42, 39, 42, 21, 45, 60, 27, 3, 12,
                               66),
        c(1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 1),
        c(0, 0, 0, rep(1, 20)))

two_out <- lapply(two_sets, function(s) {
  sd <- survdiff(Surv(s$time, s$status) ~ s$group)
  out <- list(name = s$name, durations = I(s$time), event_observed = I(s$status), group = I(s$group),
              chisq = sd$chisq, pvalue = pchisq(sd$chisq, 1, lower.tail = FALSE),
              observed = I(unname(sd$obs)), expected = I(unname(sd$exp)), variance = sd$var[2, 2])
  if (s$cox) {
    fit <- coxph(Surv(s$time, s$status) ~ s$group, ties = "efron", control = coxph.control(eps = 1e-10))
    cf <- summary(fit)$coefficients
    ci95 <- confint(fit, level = 0.95)
    ci90 <- confint(fit, level = 0.90)
    out$cox <- list(coef = cf[1, "coef"], se = cf[1, "se(coef)"], z = cf[1, "z"], pvalue = cf[1, "Pr(>|z|)"],
                    lower95 = exp(ci95[1, 1]), upper95 = exp(ci95[1, 2]),
                    lower90 = exp(ci90[1, 1]), upper90 = exp(ci90[1, 2]))
  }
  out
})

# ------------------------------------------------------------------ one-sample log-rank
curves <- list(
  list(kind = "exponential", rate = log(2) / 10,
       H = function(t) t * log(2) / 10),
  list(kind = "piecewise", breaks = c(6, 12), rates = c(0.05, 0.15, 0.08),
       H = function(t) 0.05 * pmin(t, 6) + 0.15 * pmax(pmin(t, 12) - 6, 0) + 0.08 * pmax(t - 12, 0)),
  list(kind = "weibull", shape = 1.5, scale = 14,
       H = function(t) -pweibull(t, shape = 1.5, scale = 14, lower.tail = FALSE, log.p = TRUE)),
  # Delytact-style historical control: 1-year survival 15% (exponential through S(12) = 0.15)
  list(kind = "exponential", rate = -log(0.15) / 12,
       H = function(t) -t * log(0.15) / 12)
)
one_out <- list()
for (s in km_sets) {
  if (s$name %in% c("all_censored")) next
  for (cv in curves) {
    O <- sum(s$status)
    E <- sum(cv$H(s$time))
    z_std <- (O - E) / sqrt(E)
    z_wu <- (O - E) / sqrt((O + E) / 2)
    pt95 <- poisson.test(O, E, conf.level = 0.95)$conf.int
    pt90 <- poisson.test(O, E, conf.level = 0.90)$conf.int
    p_less_exact <- ppois(O, E)
    p_greater_exact <- ppois(O - 1, E, lower.tail = FALSE)
    cv_out <- cv[setdiff(names(cv), "H")]
    if (!is.null(cv_out$breaks)) { cv_out$breaks <- I(cv_out$breaks); cv_out$rates <- I(cv_out$rates) }
    one_out[[length(one_out) + 1]] <- list(
      name = s$name, durations = I(s$time), event_observed = I(s$status), curve = cv_out,
      observed = O, expected = E,
      z_standard = z_std, z_wu = z_wu,
      p_standard = list(less = pnorm(z_std), greater = pnorm(z_std, lower.tail = FALSE),
                        two_sided = 2 * pnorm(-abs(z_std))),
      p_wu = list(less = pnorm(z_wu), greater = pnorm(z_wu, lower.tail = FALSE), two_sided = 2 * pnorm(-abs(z_wu))),
      p_exact = list(less = p_less_exact, greater = p_greater_exact,
                     two_sided = min(1, 2 * min(p_less_exact, p_greater_exact))),
      ratio = O / E, ratio_lower95 = pt95[1], ratio_upper95 = pt95[2], ratio_lower90 = pt90[1],
      ratio_upper90 = pt90[2]
    )
  }
}

# ------------------------------------------------------------------ exponential rate
exp_out <- lapply(km_sets, function(s) {
  D <- sum(s$status)
  T <- sum(s$time)
  out <- list(name = s$name, durations = I(s$time), event_observed = I(s$status), events = D, exposure = T,
              rate = D / T)
  for (l in levels) {
    ci <- poisson.test(D, T, conf.level = l)$conf.int
    out[[sprintf("lower%d", round(100 * l))]] <- ci[1]
    out[[sprintf("upper%d", round(100 * l))]] <- ci[2]
  }
  if (D > 0) {
    fit <- survreg(Surv(s$time, s$status) ~ 1, dist = "exponential")
    out$survreg_rate <- exp(-unname(coef(fit)))
  }
  out
})

res <- list(
  generated_by = "tests/reference/make_reference_survival.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  kaplan_meier = km_out,
  two_sample = two_out,
  one_sample_logrank = one_out,
  exponential = exp_out
)
write_json(res, "tests/reference/survival.json", auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE)
cat("wrote tests/reference/survival.json\n")
