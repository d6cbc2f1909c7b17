# Reference values for condapprove.kernels.survival (tests/test_kernels_survival.py).
#
# Run from the repository root:
#     Rscript tests/reference/make_reference_kernels_survival.R
# Writes tests/reference/kernels_survival.json.  Needs R packages survival (>= 3.5) and jsonlite.
#
# What is computed:
#   * logrank: for each data set (one replicate of a batch), survdiff(Surv(time, status) ~ treated):
#     observed and expected events of the treated arm (treated = 1), the variance V = var[2, 2] and
#     z = (E1 - O1) / sqrt(V) (positive = benefit of treatment, the kernel's sign convention).
#     Data sets: hand-written small cases (ties between events and censorings, all events in one arm, a
#     single patient in an arm, no events), then simulated ones with times rounded to 0.5 (many ties),
#     heavy censoring and unequal arms, all from set.seed(20240611).
#   * baselines: cumulative hazards -log S(t) of pweibull(shape, scale) (R's parametrisation) and of the
#     exponential (pexp), for checking the Weibull and Exponential baselines.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
stopifnot(packageVersion("survival") >= "3.5")

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
out_dir <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else "tests/reference"
out_file <- file.path(out_dir, "kernels_survival.json")

sets <- list()
add <- function(name, time, status, treated) {
  sets[[length(sets) + 1]] <<- list(name = name, time = time, status = status, treated = treated)
}

add("textbook", c(9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161, 5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45),
    c(1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1), c(rep(1, 11), rep(0, 12)))
add("ties_event_censor", c(1, 1, 1, 2, 2, 2, 3, 3, 4, 4), c(1, 0, 1, 1, 0, 0, 1, 1, 0, 1),
    c(0, 1, 1, 0, 1, 0, 1, 0, 1, 0))
add("all_tied", rep(5, 8), c(1, 1, 0, 1, 0, 1, 1, 0), c(1, 1, 1, 1, 0, 0, 0, 0))
add("events_one_arm", c(2, 3, 4, 5, 6, 7, 8, 9), c(1, 1, 1, 0, 0, 0, 0, 0), c(0, 0, 0, 0, 1, 1, 1, 1))
add("single_treated", c(1, 2, 3, 4, 5, 6), c(1, 1, 0, 1, 1, 1), c(0, 0, 1, 0, 0, 0))
add("time_zero", c(0, 0, 1, 2, 3, 3), c(1, 0, 1, 0, 1, 1), c(1, 0, 1, 0, 0, 1))

set.seed(20240611)
for (k in 1:24) {
  n0 <- sample(3:40, 1)
  n1 <- sample(3:40, 1)
  hr <- sample(c(0.5, 0.7, 1, 1.4), 1)
  tt <- c(rexp(n0, 0.1), rexp(n1, 0.1 * hr))
  cc <- runif(n0 + n1, 0, sample(c(8, 20, 60), 1))   # heavy to light censoring
  time <- round(pmin(tt, cc) * 2) / 2
  status <- as.numeric(tt <= cc)
  add(sprintf("sim_%02d", k), time, status, c(rep(0, n0), rep(1, n1)))
}

logrank <- lapply(sets, function(s) {
  fit <- survdiff(Surv(s$time, s$status) ~ factor(s$treated, levels = c(0, 1)))
  o1 <- fit$obs[2]
  e1 <- fit$exp[2]
  v <- fit$var[2, 2]
  z <- if (v > 0) (e1 - o1) / sqrt(v) else 0
  list(name = s$name, time = s$time, status = s$status, treated = s$treated,
       observed_treated = o1, expected_treated = e1, variance = v, z = z, events = sum(s$status),
       chisq = fit$chisq)
})

t_grid <- c(0, 0.5, 1, 3, 7.5, 12, 24, 60)
weibull <- lapply(list(c(0.7, 10), c(1, 5), c(1.5, 17.874931862232), c(3, 2.5)), function(p) {
  list(shape = p[1], scale = p[2], t = t_grid,
       cumulative_hazard = -pweibull(t_grid, shape = p[1], scale = p[2], lower.tail = FALSE, log.p = TRUE),
       median = qweibull(0.5, shape = p[1], scale = p[2]))
})
exponential <- lapply(c(0.05, 0.3), function(r) {
  list(rate = r, t = t_grid, cumulative_hazard = -pexp(t_grid, r, lower.tail = FALSE, log.p = TRUE),
       median = qexp(0.5, r))
})

out <- list(
  generated_by = "tests/reference/make_reference_kernels_survival.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  logrank = logrank,
  weibull = weibull,
  exponential = exponential
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = I(15), pretty = FALSE), out_file)
cat("wrote", out_file, "\n")
