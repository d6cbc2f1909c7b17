# Reference operating characteristics of group-sequential t tests on cumulative data (continuous endpoint).
#
# From the repository's root:
#   Rscript tests/reference/make_reference_t_power.R
# writes tests/reference/t_power.json next to this script (about a minute; fixed seeds, the same output on every
# run).
#
# Why: rpact's getSimulationMeans does not simulate the t test that condapprove applies at a look.  It draws one
# stage-wise t statistic per stage and combines them with sqrt(n) weights (tests/reference/power_rpact.md, section
# 4), which is close to, but not the same statistic as, the t test on all the data observed so far.  With small
# stages the two differ by more than Monte-Carlo error (one arm, 30 patients a stage: a power of 0.806 against
# 0.799).  This script simulates the t test condapprove applies, from its definition and nothing of condapprove:
#   * each stage of k new patients per arm draws the arm's sum from N(k mu, k sigma^2) and its sum of squared
#     deviations from sigma^2 chi^2(k - 1), which are the sufficient statistics of k normal outcomes;
#   * at each look the arm's running count, sum and sum of squares give the mean and the variance (the within-stage
#     sums of squares plus the between-stage part, as on the pooled data); the one-sample t against mu0 on n - 1
#     degrees of freedom, or the pooled two-sample t on n_t + n_c - 2; z = qnorm(pt(t, df));
#   * efficacy at look j when z >= c_j, c_j being rpact's criticalValues for the design (getDesignGroupSequential,
#     sided = 1, alpha = 0.025): the bounds of the planned information, which the looks at fixed numbers of
#     patients observe; no futility bound.
# Per case: the probability of rejecting at each look and overall, with Monte-Carlo standard errors, under the
# alternative and under the null (the t test's size with bounds computed for the normal model).
suppressPackageStartupMessages({
  library(rpact)
  library(jsonlite)
})
stopifnot(as.character(packageVersion("rpact")) == "3.3.4")

out_file <- "tests/reference/t_power.json"  # (run from the repository's root, as the header says)
stopifnot(dir.exists(dirname(out_file)))

R_REPS <- 2000000L  # replicates of each case, in batches
BATCH <- 200000L

# One case: `stage` new patients per arm at each stage (a vector), `arms` 1 (against mu0 = 0) or 2 (1:1),
# difference `delta` (treated minus control, or minus mu0), SD `sigma`, bounds `crit`.
simulate_case <- function(stage, arms, delta, sigma, crit, seed) {
  set.seed(seed)
  K <- length(stage)
  reject <- numeric(K)
  for (b in seq_len(R_REPS / BATCH)) {
    m <- BATCH
    n_run <- 0
    arm_sums <- lapply(seq_len(arms), function(a) list(s = numeric(m), q = numeric(m)))
    alive <- rep(TRUE, m)
    for (j in seq_len(K)) {
      k <- stage[j]
      n_prev <- n_run
      n_run <- n_run + k
      for (a in seq_len(arms)) {
        mu <- if (a == 1) delta else 0
        s_new <- rnorm(m, k * mu, sqrt(k) * sigma)           # the stage's sum
        ss_new <- sigma^2 * rchisq(m, k - 1)                  # its sum of squared deviations about its own mean
        s_old <- arm_sums[[a]]$s
        # sum of squares about the running mean: within-stage parts plus between-stage part
        q_old <- arm_sums[[a]]$q
        mean_old <- if (n_prev > 0) s_old / n_prev else 0
        mean_new <- s_new / k
        between <- if (n_prev > 0) n_prev * k / n_run * (mean_old - mean_new)^2 else 0
        arm_sums[[a]]$q <- q_old + ss_new + between
        arm_sums[[a]]$s <- s_old + s_new
      }
      if (arms == 1) {
        mean_t <- arm_sums[[1]]$s / n_run
        v <- arm_sums[[1]]$q / (n_run - 1)
        t <- mean_t / sqrt(v / n_run)
        df <- n_run - 1
      } else {
        diff <- (arm_sums[[1]]$s - arm_sums[[2]]$s) / n_run
        v <- (arm_sums[[1]]$q + arm_sums[[2]]$q) / (2 * n_run - 2)
        t <- diff / sqrt(v * 2 / n_run)
        df <- 2 * n_run - 2
      }
      z <- qnorm(pt(t, df))
      hit <- alive & z >= crit[j]
      reject[j] <- reject[j] + sum(hit)
      alive <- alive & !hit
    }
  }
  p <- reject / R_REPS
  overall <- sum(p)
  list(rejectPerStage = I(p), overallReject = overall,
       mcse = list(rejectPerStage = I(sqrt(p * (1 - p) / R_REPS)),
                   overallReject = sqrt(overall * (1 - overall) / R_REPS)))
}

cases <- list(
  list(id = "one_arm_asOF_30_60_90", arms = 1L, stage = c(30, 30, 30), delta = 0.3, sigma = 1,
       typeOfDesign = "asOF", gammaA = NA_real_,
       note = "rpact's simulation: 0.807 (benchmarks/run.py continuous-one-arm)"),
  list(id = "two_arm_asKD2_60_120_180", arms = 2L, stage = c(30, 30, 30), delta = 0.4, sigma = 1,
       typeOfDesign = "asKD", gammaA = 2, note = "power_rpact.json's continuous2_asKD2_k3_h1_t"),
  list(id = "two_arm_asP_small_stages", arms = 2L, stage = c(8, 8, 8, 8), delta = 1.0, sigma = 2,
       typeOfDesign = "asP", gammaA = NA_real_, note = "4 looks at 16/32/48/64 patients (8 per arm a stage)"),
  list(id = "one_arm_asOF_unequal", arms = 1L, stage = c(12, 24, 36), delta = 0.35, sigma = 1.5,
       typeOfDesign = "asOF", gammaA = NA_real_, note = "looks at 12/36/72 patients")
)

out <- list()
seed <- 20261201L
for (cs in cases) {
  info <- cumsum(cs$stage) / sum(cs$stage)
  design <- if (is.na(cs$gammaA)) {
    getDesignGroupSequential(kMax = length(cs$stage), alpha = 0.025, sided = 1, typeOfDesign = cs$typeOfDesign,
                             informationRates = info)
  } else {
    getDesignGroupSequential(kMax = length(cs$stage), alpha = 0.025, sided = 1, typeOfDesign = cs$typeOfDesign,
                             gammaA = cs$gammaA, informationRates = info)
  }
  crit <- as.numeric(design$criticalValues)
  h1 <- simulate_case(cs$stage, cs$arms, cs$delta, cs$sigma, crit, seed)
  h0 <- simulate_case(cs$stage, cs$arms, 0, cs$sigma, crit, seed + 1L)
  seed <- seed + 2L
  entry <- list(
    id = cs$id, arms = cs$arms, stagePatientsPerArm = I(cs$stage), delta = cs$delta, sigma = cs$sigma,
    typeOfDesign = cs$typeOfDesign, informationRates = I(info), criticalValues = I(crit), replicates = R_REPS,
    note = cs$note, h1 = h1, h0 = h0)
  if (!is.na(cs$gammaA)) entry$gammaA <- cs$gammaA  # (only for the designs with a parameter)
  out[[length(out) + 1]] <- entry
  cat(sprintf("%-28s H1 %.5f (%.5f)  H0 %.5f (%.5f)\n", cs$id, h1$overallReject, h1$mcse$overallReject,
              h0$overallReject, h0$mcse$overallReject))
}

writeLines(toJSON(list(
  generated_by = "tests/reference/make_reference_t_power.R",
  r_version = R.version.string, rpact_version = as.character(packageVersion("rpact")),
  replicates = R_REPS, cases = out), auto_unbox = TRUE, digits = NA, pretty = TRUE), out_file)
cat("wrote", out_file, "\n")
