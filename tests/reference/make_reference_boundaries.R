# Reference values for condapprove.boundaries (tests/test_boundaries.py).
#
# Generated with rpact 3.3.4 (R):
#   Rscript tests/reference/make_reference_boundaries.R
# writes tests/reference/boundaries_rpact.json next to this script.
#
# Every case is a one-sided group-sequential design from getDesignGroupSequential()
# (Lan-DeMets alpha spending: asOF, asP, asKD, asHSD; fixed futility bounds, binding or not;
# futility bounds from beta spending: bsOF, bsP, bsKD, bsHSD) and its getDesignCharacteristics().
# Two rpact tolerances are recorded: the default 1e-8 ("default") and the tightest rpact
# accepts, 1e-10 ("tight"); the difference between the two shows rpact's own root-finding
# precision (tolerance is on the spent alpha, so early-stage critical values move most).
suppressPackageStartupMessages({
  library(rpact)
  library(jsonlite)
})
stopifnot(as.character(packageVersion("rpact")) == "3.3.4")

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
out_dir <- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else "tests/reference"
out_file <- file.path(out_dir, "boundaries_rpact.json")

case <- function(id, kMax, alpha, beta, type, gammaA = NA_real_, rates = NULL,
                 futility = NULL, binding = FALSE, betaType = NULL, gammaB = NA_real_) {
  list(id = id, kMax = kMax, alpha = alpha, beta = beta, type = type, gammaA = gammaA,
       rates = rates, futility = futility, binding = binding, betaType = betaType, gammaB = gammaB)
}

cases <- list(
  case("of_k1_a025", 1, 0.025, 0.2, "asOF"),
  case("of_k1_a05", 1, 0.05, 0.1, "asOF"),
  case("of_k2_a025_b20", 2, 0.025, 0.2, "asOF"),
  case("of_k3_a025_b20", 3, 0.025, 0.2, "asOF"),
  case("of_k4_a025_b10", 4, 0.025, 0.1, "asOF"),
  case("of_k5_a025_b20", 5, 0.025, 0.2, "asOF"),
  case("of_k3_a05_b10", 3, 0.05, 0.1, "asOF"),
  case("of_k3_unequal", 3, 0.025, 0.2, "asOF", rates = c(0.3, 0.7, 1)),
  case("of_k4_unequal_a05", 4, 0.05, 0.2, "asOF", rates = c(0.15, 0.4, 0.75, 1)),
  case("of_k2_close", 2, 0.025, 0.1, "asOF", rates = c(0.9, 1)),
  case("p_k2_a025_b20", 2, 0.025, 0.2, "asP"),
  case("p_k3_a025_b10", 3, 0.025, 0.1, "asP"),
  case("p_k5_a05_b20", 5, 0.05, 0.2, "asP"),
  case("p_k4_unequal", 4, 0.025, 0.2, "asP", rates = c(0.2, 0.5, 0.6, 1)),
  case("kd_k3_rho1", 3, 0.025, 0.2, "asKD", gammaA = 1),
  case("kd_k4_rho2_a05", 4, 0.05, 0.1, "asKD", gammaA = 2),
  case("kd_k5_rho3", 5, 0.025, 0.2, "asKD", gammaA = 3),
  case("kd_k3_rho05_unequal", 3, 0.025, 0.1, "asKD", gammaA = 0.5, rates = c(0.25, 0.6, 1)),
  case("hsd_k3_gm4", 3, 0.025, 0.2, "asHSD", gammaA = -4),
  case("hsd_k4_gm2_a05", 4, 0.05, 0.2, "asHSD", gammaA = -2),
  case("hsd_k3_g0", 3, 0.025, 0.1, "asHSD", gammaA = 0),
  case("hsd_k2_g1", 2, 0.025, 0.2, "asHSD", gammaA = 1, rates = c(0.4, 1)),
  case("hsd_k5_g2_unequal", 5, 0.025, 0.1, "asHSD", gammaA = 2, rates = c(0.1, 0.3, 0.5, 0.8, 1)),
  case("of_k3_fut_nonbinding", 3, 0.025, 0.2, "asOF", futility = c(0, 0.5), binding = FALSE),
  case("of_k3_fut_binding", 3, 0.025, 0.2, "asOF", futility = c(0, 0.5), binding = TRUE),
  case("of_k2_fut0_binding", 2, 0.025, 0.1, "asOF", futility = 0, binding = TRUE),
  case("p_k4_fut_nonbinding", 4, 0.05, 0.2, "asP", futility = c(-0.5, 0, 0.5), binding = FALSE),
  case("p_k4_fut_binding", 4, 0.05, 0.2, "asP", futility = c(-0.5, 0, 0.5), binding = TRUE),
  case("kd_k3_fut_partial_binding", 3, 0.025, 0.1, "asKD", gammaA = 2, rates = c(0.4, 0.7, 1),
       futility = c(-6, 1), binding = TRUE),
  # futility bounds from beta spending (typeBetaSpending)
  case("bs_of_of_k3", 3, 0.025, 0.1, "asOF", betaType = "bsOF"),
  case("bs_of_of_k3_binding", 3, 0.025, 0.1, "asOF", betaType = "bsOF", binding = TRUE),
  case("bs_of_p_k4", 4, 0.025, 0.2, "asOF", betaType = "bsP"),
  case("bs_p_kd_k2_binding", 2, 0.05, 0.2, "asP", betaType = "bsKD", gammaB = 2, binding = TRUE),
  case("bs_hsd_hsd_k5_unequal", 5, 0.025, 0.1, "asHSD", gammaA = -4, betaType = "bsHSD", gammaB = -2,
       rates = c(0.2, 0.35, 0.5, 0.75, 1)),
  case("bs_kd_of_k3_unequal_binding", 3, 0.025, 0.2, "asKD", gammaA = 3, betaType = "bsOF",
       rates = c(0.3, 0.6, 1), binding = TRUE)
)

run <- function(cs, tolerance) {
  args <- list(kMax = cs$kMax, alpha = cs$alpha, beta = cs$beta, sided = 1,
               typeOfDesign = cs$type, tolerance = tolerance)
  if (!is.na(cs$gammaA)) args$gammaA <- cs$gammaA
  if (!is.null(cs$rates)) args$informationRates <- cs$rates
  if (!is.null(cs$futility)) {
    args$futilityBounds <- cs$futility
    args$bindingFutility <- cs$binding
  }
  if (!is.null(cs$betaType)) {
    args$typeBetaSpending <- cs$betaType
    args$bindingFutility <- cs$binding
    if (!is.na(cs$gammaB)) args$gammaB <- cs$gammaB
  }
  d <- do.call(getDesignGroupSequential, args)
  ch <- getDesignCharacteristics(d)
  out <- list(
    informationRates = d$informationRates,
    criticalValues = d$criticalValues,
    alphaSpent = d$alphaSpent,
    stageLevels = d$stageLevels,
    futilityBounds = if (cs$kMax > 1) d$futilityBounds else NULL,
    nFixed = ch$nFixed,
    shift = ch$shift,
    inflationFactor = ch$inflationFactor
  )
  if (!is.null(cs$betaType)) {
    out$betaSpent <- d$betaSpent
    out$designPower <- d$power
  }
  if (cs$kMax > 1) {
    out$power <- ch$power
    out$rejectionProbabilities <- ch$rejectionProbabilities
    out$futilityProbabilities <- ch$futilityProbabilities
    out$averageSampleNumber1 <- ch$averageSampleNumber1
    out$averageSampleNumber01 <- ch$averageSampleNumber01
    out$averageSampleNumber0 <- ch$averageSampleNumber0
  }
  out
}

results <- lapply(cases, function(cs) {
  list(
    id = cs$id, kMax = cs$kMax, alpha = cs$alpha, beta = cs$beta, typeOfDesign = cs$type,
    gammaA = if (is.na(cs$gammaA)) NULL else cs$gammaA,
    futilityBounds = cs$futility, bindingFutility = cs$binding,
    typeBetaSpending = cs$betaType, gammaB = if (is.na(cs$gammaB)) NULL else cs$gammaB,
    default = run(cs, 1e-8),
    tight = run(cs, 1e-10)
  )
})

doc <- list(
  generator = "tests/reference/make_reference_boundaries.R",
  rpact_version = as.character(packageVersion("rpact")),
  r_version = R.version.string,
  cases = results
)
writeLines(toJSON(doc, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), out_file)
cat("wrote", out_file, "with", length(results), "cases\n")
