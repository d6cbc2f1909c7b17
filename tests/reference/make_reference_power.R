# Reference operating characteristics for condapprove's Monte-Carlo engine (issue 4 validation).
#
# Generated with rpact 3.3.4 (R), from the repository root:
#   Rscript tests/reference/make_reference_power.R
# writes tests/reference/power_rpact.json next to this script (about 3-4 minutes).
# tests/reference/power_rpact.md documents which test statistic rpact uses in each case.
#
# For every case we record
#   * design:      the group-sequential design (getDesignGroupSequential, sided = 1),
#   * analytic:    rpact's analytic power (getPowerRates / getPowerMeans / getPowerSurvival),
#   * simulation:  rpact's simulation (getSimulationRates / getSimulationMeans / getSimulationSurvival,
#                  maxNumberOfIterations = 100000, fixed seed) with Monte-Carlo standard errors,
#   * exact:       (binary cases only) the exact operating characteristics of the very statistic
#                  rpact's simulation uses, by enumerating all outcomes stage by stage here in R
#                  (independent of rpact's random numbers; see exact_binary() below).
# plus "formula_checks": small rpact simulations whose per-iteration output (.data, .rawData) is
# recomputed here from the documented formulas, to show that power_rpact.md describes rpact 3.3.4.
suppressPackageStartupMessages({
  library(rpact)
  library(jsonlite)
  library(survival)
})
stopifnot(as.character(packageVersion("rpact")) == "3.3.4")

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
out_dir <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else "tests/reference"
out_file <- file.path(out_dir, "power_rpact.json")

M <- 100000L           # maxNumberOfIterations of every reference simulation
ALPHA <- 0.025
arr <- function(x) if (is.null(x) || length(x) == 0) NULL else I(as.numeric(x))
num <- function(x) if (is.null(x) || length(x) == 0) NULL else as.numeric(x)
mcse_p <- function(p) sqrt(p * (1 - p) / M)
last_rows <- function(data) data[!duplicated(data$iterationNumber, fromLast = TRUE), ]

# ---------------------------------------------------------------------------------------------
# Designs
# ---------------------------------------------------------------------------------------------
make_design <- function(kMax, type = "asOF", gammaA = NA_real_, futility = NULL, binding = FALSE) {
  a <- list(kMax = kMax, alpha = ALPHA, sided = 1)
  if (kMax > 1) a$typeOfDesign <- type
  if (!is.na(gammaA)) a$gammaA <- gammaA
  if (!is.null(futility)) {
    a$futilityBounds <- futility
    a$bindingFutility <- binding
  }
  do.call(getDesignGroupSequential, a)
}
design_info <- function(d) {
  list(
    kMax = d$kMax, alpha = d$alpha, sided = d$sided,
    typeOfDesign = if (d$kMax > 1) d$typeOfDesign else "fixed (kMax = 1)",
    gammaA = if (d$typeOfDesign %in% c("asKD", "asHSD")) d$gammaA else NULL,
    informationRates = arr(d$informationRates),
    criticalValues = arr(d$criticalValues),
    alphaSpent = arr(d$alphaSpent),
    futilityBounds = if (d$kMax > 1) arr(d$futilityBounds) else NULL,
    bindingFutility = if (d$kMax > 1) d$bindingFutility else NULL
  )
}

# ---------------------------------------------------------------------------------------------
# Output extraction
# ---------------------------------------------------------------------------------------------
analytic_info <- function(p, kMax, survival = FALSE) {
  out <- list(
    overallReject = num(p$overallReject),
    rejectPerStage = arr(p$rejectPerStage),
    futilityPerStage = if (kMax > 1) arr(p$futilityPerStage) else NULL,
    earlyStop = if (kMax > 1) num(p$earlyStop) else 0,
    expectedNumberOfSubjects = num(p$expectedNumberOfSubjects)
  )
  if (kMax == 1 && !survival) out$expectedNumberOfSubjects <- num(p$numberOfSubjects)
  if (survival) {
    out$expectedNumberOfEvents <- num(p$expectedNumberOfEvents)
    out$eventsPerStage <- arr(p$eventsPerStage)
    out$numberOfSubjects <- arr(p$numberOfSubjects)
    out$analysisTime <- arr(p$analysisTime)
    out$studyDuration <- num(p$studyDuration)
  }
  out
}

simulation_info <- function(s, kMax, seed, survival = FALSE) {
  stopifnot(s$maxNumberOfIterations == M)
  it <- as.numeric(s$iterations)
  stopifnot(it[1] == M)
  last <- last_rows(s$.data)
  stopifnot(nrow(last) == M)
  out <- list(
    maxNumberOfIterations = M,
    seed = seed,
    iterations = arr(it),
    overallReject = num(s$overallReject),
    rejectPerStage = arr(s$rejectPerStage),
    futilityPerStage = if (kMax > 1) arr(s$futilityPerStage) else NULL,
    futilityStop = if (kMax > 1) num(s$futilityStop) else 0,
    earlyStop = if (kMax > 1) num(s$earlyStop) else 0,
    expectedNumberOfSubjects = num(s$expectedNumberOfSubjects),
    mcse = list(
      overallReject = mcse_p(num(s$overallReject)),
      rejectPerStage = arr(mcse_p(as.numeric(s$rejectPerStage))),
      futilityPerStage = if (kMax > 1) arr(mcse_p(as.numeric(s$futilityPerStage))) else NULL
    )
  )
  if (!survival) {
    n_stop <- last$numberOfCumulatedSubjects
    # rpact's expectedNumberOfSubjects is the mean total (both arms) at the stopping look
    stopifnot(abs(mean(n_stop) - out$expectedNumberOfSubjects) < 1e-9)
    out$sampleSizesPerStage <- arr(s$sampleSizes)
    out$mcse$expectedNumberOfSubjects <- sd(n_stop) / sqrt(M)
  } else {
    n_stop <- last$numberOfSubjects
    e_stop <- last$overallEvents1 + last$overallEvents2
    out$expectedNumberOfEvents <- num(s$expectedNumberOfEvents)
    out$eventsPerStage <- arr(s$eventsPerStage)
    out$overallEventsPerStage <- arr(s$overallEventsPerStage)
    out$numberOfSubjects <- arr(s$numberOfSubjects)
    out$analysisTime <- arr(s$analysisTime)
    out$studyDuration <- num(s$studyDuration)
    out$eventsNotAchieved <- arr(s$eventsNotAchieved)
    # rpact weights E[subjects | reach k] by P(stop at k); the per-iteration mean at the stopping
    # look (what a simulation engine naturally reports) is given too.
    out$meanSubjectsAtStop <- mean(n_stop)
    out$meanEventsAtStop <- mean(e_stop)
    out$meanAnalysisTimeAtStop <- mean(last$analysisTime)
    out$mcse$expectedNumberOfSubjects <- sd(n_stop) / sqrt(M)
    out$mcse$expectedNumberOfEvents <- sd(e_stop) / sqrt(M)
    out$mcse$studyDuration <- sd(last$analysisTime) / sqrt(M)
  }
  out
}

# ---------------------------------------------------------------------------------------------
# Exact operating characteristics of rpact's binary test statistics (enumeration)
# ---------------------------------------------------------------------------------------------
# Transition matrix from cumulative count j (0..nOld) to j + x, x ~ Bin(m, p).
band <- function(nOld, m, p) {
  B <- matrix(0, nOld + m + 1, nOld + 1)
  pr <- dbinom(0:m, m, p)
  for (j in 0:nOld) B[j + 1 + 0:m, j + 1] <- pr
  B
}
# rpact's cumulative statistics (see power_rpact.md), same arithmetic as rpact:::.getTestStatisticsRates
z_two_pooled <- function(x1, x2, n1, n2) {
  r1 <- x1 / n1
  r2 <- x2 / n2
  alloc <- n1 / n2
  ml <- (alloc * r1 + r2) / (1 + alloc)
  z <- (r1 - r2) / sqrt(ml * (1 - ml) / n1 + ml * (1 - ml) / n2)
  z[r1 - r2 == 0] <- 0
  z
}
z_two_fisher <- function(x1, x2, n1, n2) {
  rpact:::.getOneMinusQNorm(stats::phyper(x1 - 1, x1 + x2, n1 + n2 - x1 - x2, n1, lower.tail = FALSE))
}
z_one_normal <- function(x, n, p0) (x / n - p0) / sqrt(p0 * (1 - p0)) * sqrt(n)
z_one_exact <- function(x, n, p0) rpact:::.getOneMinusQNorm(stats::pbinom(x - 1, n, p0, lower.tail = FALSE))

# groups = 2: m1, m2 are per-stage increments per arm; groups = 1: m1 only.
exact_binary <- function(groups, pi1, pi2, m1, m2, crit, fut, zfun, p0 = NA_real_) {
  K <- length(crit)
  if (K > 1 && is.null(fut)) fut <- rep(-6, K - 1)
  P <- matrix(1, 1, 1)
  N1 <- 0
  N2 <- 0
  rej <- fu <- reach <- tie <- numeric(K)
  gap <- Inf
  for (k in 1:K) {
    if (groups == 2) {
      P <- band(N1, m1[k], pi1) %*% P %*% t(band(N2, m2[k], pi2))
      N1 <- N1 + m1[k]
      N2 <- N2 + m2[k]
      Z <- outer(0:N1, 0:N2, function(a, b) zfun(a, b, N1, N2))
    } else {
      P <- band(N1, m1[k], pi1) %*% P
      N1 <- N1 + m1[k]
      Z <- matrix(zfun(0:N1, N1, p0), ncol = 1)
    }
    reach[k] <- sum(P)
    R <- Z >= crit[k]
    Fu <- if (k < K) (Z <= fut[k]) & !R else matrix(FALSE, nrow(Z), ncol(Z))
    rej[k] <- sum(P[R])
    fu[k] <- sum(P[Fu])
    if (k < K) tie[k] <- sum(P[Z == fut[k]])
    gap <- min(gap, abs(Z - crit[k]))
    P[R | Fu] <- 0
  }
  nTot <- cumsum(if (groups == 2) m1 + m2 else m1)
  stopP <- c(if (K > 1) (rej + fu)[-K] else NULL, reach[K])
  out <- list(
    overallReject = sum(rej),
    rejectPerStage = arr(rej),
    futilityPerStage = if (K > 1) arr(fu[-K]) else NULL,
    earlyStop = if (K > 1) sum((rej + fu)[-K]) else 0,
    expectedNumberOfSubjects = sum(nTot * stopP),
    probabilityReachStage = arr(reach),
    minAbsDistanceToEfficacyBound = gap
  )
  if (K > 1) out$probabilityStatisticEqualsFutilityBound <- arr(tie[-K])
  out
}

# ---------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------
cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x
seed_base <- 20240400L
next_seed <- local({
  i <- 0L
  function() {
    i <<- i + 1L
    seed_base + i
  }
})

# Binary, two arms ------------------------------------------------------------------------------
binary_two <- function(id, d, pi1, pi2, planned, normalApproximation = TRUE, note = NULL) {
  seed <- next_seed()
  kMax <- d$kMax
  s <- getSimulationRates(d, groups = 2L, pi1 = pi1, pi2 = pi2, plannedSubjects = planned,
                          normalApproximation = normalApproximation, directionUpper = TRUE,
                          maxNumberOfIterations = M, seed = seed)
  analytic <- NULL
  if (normalApproximation) {
    p <- getPowerRates(d, groups = 2L, pi1 = pi1, pi2 = pi2, maxNumberOfSubjects = max(planned),
                       directionUpper = TRUE)
    analytic <- analytic_info(p, kMax)
  }
  stage <- diff(c(0, planned))
  m1 <- ceiling(stage / 2)  # rpact: n1 = ceiling(r * stageSubjects / (1 + r)), r = 1
  m2 <- stage - m1
  ex <- exact_binary(2, pi1, pi2, m1, m2, d$criticalValues,
                     if (kMax > 1) d$futilityBounds else NULL,
                     if (normalApproximation) z_two_pooled else z_two_fisher)
  list(
    id = id, endpoint = "binary", groups = 2L, note = note,
    design = design_info(d),
    parameters = list(pi1 = pi1, pi2 = pi2, thetaH0 = 0, riskRatio = FALSE,
                      normalApproximation = normalApproximation, directionUpper = TRUE,
                      allocationRatioPlanned = 1, plannedSubjects = arr(planned),
                      subjectsPerStageArm1 = arr(m1), subjectsPerStageArm2 = arr(m2)),
    statistic = if (normalApproximation) "two_sample_rates_pooled_z" else "fisher_exact_z",
    analytic = analytic,
    simulation = simulation_info(s, kMax, seed),
    exact = ex
  )
}

# Binary, single arm ----------------------------------------------------------------------------
binary_one <- function(id, d, pi1, p0, planned, normalApproximation = TRUE, note = NULL) {
  seed <- next_seed()
  kMax <- d$kMax
  s <- getSimulationRates(d, groups = 1L, pi1 = pi1, thetaH0 = p0, plannedSubjects = planned,
                          normalApproximation = normalApproximation, directionUpper = TRUE,
                          maxNumberOfIterations = M, seed = seed)
  analytic <- NULL
  if (normalApproximation) {
    p <- getPowerRates(d, groups = 1L, pi1 = pi1, thetaH0 = p0, maxNumberOfSubjects = max(planned),
                       directionUpper = TRUE)
    analytic <- analytic_info(p, kMax)
  }
  m1 <- diff(c(0, planned))
  ex <- exact_binary(1, pi1, NA, m1, NULL, d$criticalValues,
                     if (kMax > 1) d$futilityBounds else NULL,
                     if (normalApproximation) z_one_normal else z_one_exact, p0 = p0)
  list(
    id = id, endpoint = "binary", groups = 1L, note = note,
    design = design_info(d),
    parameters = list(pi1 = pi1, thetaH0 = p0, normalApproximation = normalApproximation,
                      directionUpper = TRUE, plannedSubjects = arr(planned)),
    statistic = if (normalApproximation) "one_sample_rate_z_null_variance" else "exact_binomial_z",
    analytic = analytic,
    simulation = simulation_info(s, kMax, seed),
    exact = ex
  )
}

# Continuous, two arms --------------------------------------------------------------------------
continuous_two <- function(id, d, delta, sd, planned, normalApproximation, note = NULL) {
  seed <- next_seed()
  kMax <- d$kMax
  s <- getSimulationMeans(d, groups = 2L, alternative = delta, stDev = sd, plannedSubjects = planned,
                          normalApproximation = normalApproximation, directionUpper = TRUE,
                          maxNumberOfIterations = M, seed = seed)
  p <- getPowerMeans(d, groups = 2L, alternative = delta, stDev = sd, maxNumberOfSubjects = max(planned),
                     normalApproximation = normalApproximation, directionUpper = TRUE)
  list(
    id = id, endpoint = "continuous", groups = 2L, note = note,
    design = design_info(d),
    parameters = list(alternative = delta, stDev = sd, thetaH0 = 0, meanRatio = FALSE,
                      normalApproximation = normalApproximation, directionUpper = TRUE,
                      allocationRatioPlanned = 1, plannedSubjects = arr(planned)),
    statistic = if (normalApproximation) "stagewise_z_inverse_normal_combination" else
      "stagewise_t_weighted_sum_then_t_to_z",
    analytic = analytic_info(p, kMax),
    simulation = simulation_info(s, kMax, seed)
  )
}

# Survival, two arms ----------------------------------------------------------------------------
SURV <- list(median2 = 12, accrualTime = c(0, 12), maxNumberOfSubjects = 240,
             dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12)
survival_two <- function(id, d, hr, events, note = NULL) {
  seed <- next_seed()
  kMax <- d$kMax
  s <- getSimulationSurvival(d, hazardRatio = hr, median2 = SURV$median2, directionUpper = FALSE,
                             accrualTime = SURV$accrualTime, maxNumberOfSubjects = SURV$maxNumberOfSubjects,
                             plannedEvents = events, dropoutRate1 = SURV$dropoutRate1,
                             dropoutRate2 = SURV$dropoutRate2, dropoutTime = SURV$dropoutTime,
                             maxNumberOfIterations = M, seed = seed)
  p <- getPowerSurvival(d, hazardRatio = hr, median2 = SURV$median2, directionUpper = FALSE,
                        accrualTime = SURV$accrualTime, maxNumberOfSubjects = SURV$maxNumberOfSubjects,
                        maxNumberOfEvents = max(events), dropoutRate1 = SURV$dropoutRate1,
                        dropoutRate2 = SURV$dropoutRate2, dropoutTime = SURV$dropoutTime)
  lambda2 <- log(2) / SURV$median2
  list(
    id = id, endpoint = "survival", groups = 2L, note = note,
    design = design_info(d),
    parameters = list(
      hazardRatio = hr, median2 = SURV$median2, median1 = SURV$median2 / hr,
      lambda2 = lambda2, lambda1 = hr * lambda2, thetaH0 = 1, directionUpper = FALSE,
      plannedEvents = arr(events), maxNumberOfSubjects = SURV$maxNumberOfSubjects,
      accrualTime = arr(SURV$accrualTime), accrualIntensity = SURV$maxNumberOfSubjects / 12,
      entryTimes = "deterministic: subject i (1..240) enters at i * 12 / 240 months",
      treatmentGroups = "deterministic alternation: odd subjects group 1 (treatment), even group 2 (control)",
      dropoutRate1 = SURV$dropoutRate1, dropoutRate2 = SURV$dropoutRate2, dropoutTime = SURV$dropoutTime,
      dropoutHazard = -log(1 - SURV$dropoutRate1) / SURV$dropoutTime,
      allocationRatioPlanned = 1, kappa = 1),
    statistic = "logrank_z_group1_minus_expected_negated",
    analytic = analytic_info(p, kMax, survival = TRUE),
    simulation = simulation_info(s, kMax, seed, survival = TRUE)
  )
}

t_start <- Sys.time()

# 1. Binary two-arm, 3 looks at 60/120/180, OBF
d_of3 <- make_design(3, "asOF")
add(binary_two("binary2_asOF_k3_h1", d_of3, 0.45, 0.30, c(60, 120, 180)))
add(binary_two("binary2_asOF_k3_h0", d_of3, 0.30, 0.30, c(60, 120, 180)))
add(binary_two("binary2_asOF_k3_h1_fisher", d_of3, 0.45, 0.30, c(60, 120, 180), normalApproximation = FALSE,
               note = "extra: normalApproximation = FALSE (Fisher exact p-value turned into z); no analytic counterpart"))
add(binary_two("binary2_asOF_k3_h0_fisher", d_of3, 0.30, 0.30, c(60, 120, 180), normalApproximation = FALSE,
               note = "extra: normalApproximation = FALSE (Fisher exact p-value turned into z); no analytic counterpart"))

# 2. Binary single arm vs p0 = 0.3, 2 looks at 30/60, Pocock
d_p2 <- make_design(2, "asP")
add(binary_one("binary1_asP_k2_h1", d_p2, 0.5, 0.3, c(30, 60)))
add(binary_one("binary1_asP_k2_h0", d_p2, 0.3, 0.3, c(30, 60)))
add(binary_one("binary1_asP_k2_h1_exactbinom", d_p2, 0.5, 0.3, c(30, 60), normalApproximation = FALSE,
               note = "extra: normalApproximation = FALSE (exact binomial p-value turned into z); no analytic counterpart"))
add(binary_one("binary1_asP_k2_h0_exactbinom", d_p2, 0.3, 0.3, c(30, 60), normalApproximation = FALSE,
               note = "extra: normalApproximation = FALSE (exact binomial p-value turned into z); no analytic counterpart"))

# 3. Continuous two-arm, 3 looks at 60/120/180, Kim-DeMets gamma = 2
d_kd3 <- make_design(3, "asKD", gammaA = 2)
for (na in c(TRUE, FALSE)) {
  tag <- if (na) "z" else "t"
  add(continuous_two(paste0("continuous2_asKD2_k3_h1_", tag), d_kd3, 0.4, 1, c(60, 120, 180), na))
  add(continuous_two(paste0("continuous2_asKD2_k3_h0_", tag), d_kd3, 0.0, 1, c(60, 120, 180), na))
}

# 4. Survival, 3 looks at 40/80/120 events (OBF), and single stage at 120 events
d_s1 <- make_design(1)
add(survival_two("survival_asOF_k3_hr07", d_of3, 0.7, c(40, 80, 120)))
add(survival_two("survival_asOF_k3_hr1", d_of3, 1.0, c(40, 80, 120)))
add(survival_two("survival_k1_hr07", d_s1, 0.7, 120))
add(survival_two("survival_k1_hr1", d_s1, 1.0, 120))

# 5. Binary two-arm, 2 looks at 50/100, OBF, non-binding futility z = 0 at look 1
d_fut <- make_design(2, "asOF", futility = 0, binding = FALSE)
add(binary_two("binary2_asOF_k2_fut0_h1", d_fut, 0.5, 0.3, c(50, 100)))
add(binary_two("binary2_asOF_k2_fut0_h0", d_fut, 0.3, 0.3, c(50, 100),
               note = "extra: H0 with the non-binding futility bound applied (type I error below alpha)"))

# ---------------------------------------------------------------------------------------------
# Formula checks: recompute rpact's per-iteration statistics from the documented formulas
# ---------------------------------------------------------------------------------------------
MC <- 2000L
checks <- list()

recompute_rates <- function(s, groups, zfun, p0 = NA) {
  dt <- s$.data
  dt <- dt[order(dt$iterationNumber, dt$stageNumber), ]
  n1 <- ave(dt$sampleSizesPerStage1, dt$iterationNumber, FUN = cumsum)
  x1 <- round(dt$overallRate1 * n1)
  if (groups == 2) {
    n2 <- ave(dt$sampleSizesPerStage2, dt$iterationNumber, FUN = cumsum)
    x2 <- round(dt$overallRate2 * n2)
    z <- zfun(x1, x2, n1, n2)
  } else {
    z <- zfun(x1, n1, p0)
  }
  max(abs(z - dt$testStatistic))
}
s <- getSimulationRates(d_of3, pi1 = 0.45, pi2 = 0.3, plannedSubjects = c(60, 120, 180),
                        maxNumberOfIterations = MC, seed = 1L)
checks$binary2_pooled_z <- list(rows = nrow(s$.data), maxAbsDiff = recompute_rates(s, 2, z_two_pooled))
s <- getSimulationRates(d_of3, pi1 = 0.45, pi2 = 0.3, plannedSubjects = c(60, 120, 180),
                        normalApproximation = FALSE, maxNumberOfIterations = MC, seed = 2L)
checks$binary2_fisher_z <- list(rows = nrow(s$.data), maxAbsDiff = recompute_rates(s, 2, z_two_fisher))
s <- getSimulationRates(d_p2, groups = 1L, pi1 = 0.5, thetaH0 = 0.3, plannedSubjects = c(30, 60),
                        maxNumberOfIterations = MC, seed = 3L)
checks$binary1_normal_z <- list(rows = nrow(s$.data), maxAbsDiff = recompute_rates(s, 1, z_one_normal, 0.3))
s <- getSimulationRates(d_p2, groups = 1L, pi1 = 0.5, thetaH0 = 0.3, plannedSubjects = c(30, 60),
                        normalApproximation = FALSE, maxNumberOfIterations = MC, seed = 4L)
checks$binary1_exact_z <- list(rows = nrow(s$.data), maxAbsDiff = recompute_rates(s, 1, z_one_exact, 0.3))
s <- getSimulationRates(d_fut, pi1 = 0.3, pi2 = 0.3, plannedSubjects = c(50, 100),
                        maxNumberOfIterations = MC, seed = 5L)
st1 <- s$.data[s$.data$stageNumber == 1, ]
checks$futility_tie_rule <- list(
  rule = "futility stop when Z <= futilityBound (Z == 0 exactly when the two observed rates are equal)",
  stage1StatisticsEqualZero = sum(st1$testStatistic == 0),
  ofWhichFutilityStops = sum(st1$testStatistic == 0 & st1$futilityPerStage == 1),
  efficacyRule = "reject when Z >= criticalValue"
)

for (na in c(TRUE, FALSE)) {
  s <- getSimulationMeans(d_kd3, alternative = 0.4, stDev = 1, plannedSubjects = c(60, 120, 180),
                          normalApproximation = na, maxNumberOfIterations = MC, seed = 6L + na)
  dt <- s$.data[order(s$.data$iterationNumber, s$.data$stageNumber), ]
  n <- dt$numberOfSubjects
  N <- dt$numberOfCumulatedSubjects
  w <- ave(sqrt(n) * dt$testStatisticsPerStage, dt$iterationNumber, FUN = cumsum) / sqrt(N)
  z <- if (na) w else rpact:::.getQNorm(stats::pt(w, N - 2))
  t1 <- dt$testStatisticsPerStage[dt$stageNumber == 1]
  ncp <- 0.4 / 1 * sqrt(60) / 2
  ks <- if (na) stats::ks.test(t1, "pnorm", ncp, 1) else stats::ks.test(t1, "pt", 58, ncp)
  checks[[paste0("continuous2_", if (na) "z" else "t")]] <- list(
    rows = nrow(dt), maxAbsDiff = max(abs(z - dt$testStatistic)),
    stage1Distribution = if (na) "N(ncp, 1)" else "noncentral t, df = n1 - 2",
    stage1Ncp = ncp, ksPvalueStage1 = ks$p.value
  )
}

# One raw data set per iteration (the quota is never full): rpact 3.3.4 mislabels raw data sets
# once a stage's quota is full (a data set from an earlier look is labelled stopStage = kMax).
s <- getSimulationSurvival(d_of3, hazardRatio = 0.7, median2 = 12, directionUpper = FALSE,
                           accrualTime = c(0, 12), maxNumberOfSubjects = 240, plannedEvents = c(40, 80, 120),
                           dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12,
                           maxNumberOfIterations = 200L, seed = 8L, maxNumberOfRawDatasetsPerStage = 200L)
raw <- s$.rawData
diffs <- c()
entry_diff <- c()
for (key in unique(paste(raw$iterationNumber, raw$stopStage))) {
  r <- raw[paste(raw$iterationNumber, raw$stopStage) == key, ]
  entry_diff <- c(entry_diff, max(abs(r$accrualTime - r$subjectId * 12 / 240)),
                  max(abs(r$treatmentGroup - ifelse(r$subjectId %% 2 == 1, 1, 2))))
  r <- r[r$accrualTime <= r$lastObservationTime, ]
  sd_ <- survdiff(Surv(timeUnderObservation, event) ~ treatmentGroup, data = r)
  z <- -(sd_$obs[1] - sd_$exp[1]) / sqrt(sd_$var[1, 1])
  row <- s$.data[s$.data$iterationNumber == r$iterationNumber[1] & s$.data$stageNumber == r$stopStage[1], ]
  diffs <- c(diffs, abs(z - row$logRankStatistic), abs(sum(r$event) - (row$overallEvents1 + row$overallEvents2)))
}
checks$survival_logrank <- list(
  datasets = length(unique(paste(raw$iterationNumber, raw$stopStage))),
  formula = "Z = -(O1 - E1) / sqrt(V) with survival::survdiff on the raw data at the stopping look",
  maxAbsDiff = max(diffs), maxAbsDiffEntryTimesAndGroups = max(entry_diff)
)
s_up <- getSimulationSurvival(d_s1, hazardRatio = 0.7, median2 = 12, directionUpper = TRUE,
                              accrualTime = c(0, 12), maxNumberOfSubjects = 240, plannedEvents = 120,
                              dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12,
                              maxNumberOfIterations = MC, seed = 9L)
p_na <- getPowerSurvival(d_s1, hazardRatio = 0.7, median2 = 12, accrualTime = c(0, 12),
                         maxNumberOfSubjects = 240, maxNumberOfEvents = 120,
                         dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 12)
checks$survival_direction <- list(
  note = "HR < 1 needs directionUpper = FALSE in rpact 3.3.4; the defaults test the upper tail",
  simulation_hr07_directionUpperTRUE_overallReject = num(s_up$overallReject),
  analytic_hr07_directionUpperNA_overallReject = num(p_na$overallReject)
)

# ---------------------------------------------------------------------------------------------
# Agreement summaries (simulation vs exact, simulation vs analytic), in MCSE units
# ---------------------------------------------------------------------------------------------
for (i in seq_along(cases)) {
  cs <- cases[[i]]
  sim <- cs$simulation
  se <- sim$mcse$overallReject
  agree <- list()
  if (!is.null(cs$exact)) {
    se_ex <- sqrt(cs$exact$overallReject * (1 - cs$exact$overallReject) / M)
    agree$simMinusExact_overallReject <- sim$overallReject - cs$exact$overallReject
    agree$simMinusExact_zScore <- (sim$overallReject - cs$exact$overallReject) / se_ex
    agree$simMinusExact_expectedNumberOfSubjects <- sim$expectedNumberOfSubjects -
      cs$exact$expectedNumberOfSubjects
  }
  if (!is.null(cs$analytic)) {
    agree$simMinusAnalytic_overallReject <- sim$overallReject - cs$analytic$overallReject
    agree$simMinusAnalytic_zScore <- (sim$overallReject - cs$analytic$overallReject) / max(se, 1e-12)
  }
  cases[[i]]$agreement <- agree
}

doc <- list(
  generator = "tests/reference/make_reference_power.R",
  documentation = "tests/reference/power_rpact.md",
  rpact_version = as.character(packageVersion("rpact")),
  r_version = R.version.string,
  maxNumberOfIterations = M,
  alpha = ALPHA,
  sided = 1L,
  mcse_formula = "sqrt(p * (1 - p) / maxNumberOfIterations) for probabilities; sd(per-iteration value) / sqrt(maxNumberOfIterations) for expectations",
  cases = cases,
  formula_checks = checks
)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), out_file)
cat("wrote", out_file, "with", length(cases), "cases in",
    round(as.numeric(difftime(Sys.time(), t_start, units = "secs"))), "seconds\n")
