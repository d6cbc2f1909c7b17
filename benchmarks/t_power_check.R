# The power of the t test on all the data of two-arm group sequential designs with continuous outcomes, simulated
# from its definition (simulate_case of tests/reference/make_reference_t_power.R, evaluated from it), at rpact's
# critical values: the check that a continuous design's power away from rpact's getSimulationMeans is rpact's other
# statistic (its stage-wise t statistics combined with sqrt(n) weights), not condapprove's. Sourced by a round's
# check in benchmarks/results/, which names its designs:
#   source("benchmarks/t_power_check.R")
#   check_t_power(list(name = list(stage = <per-arm stage sizes>, delta = <difference>, sigma = <SD>,
#                                  spending = <rpact's typeOfDesign>, seed = <seed>), ...))
# Run from the repository's root.
suppressPackageStartupMessages(library(rpact)); R_REPS <- 1000000L; BATCH <- 200000L
for (e in parse("tests/reference/make_reference_t_power.R")) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name("simulate_case"))) eval(e)
}
check_t_power <- function(cases) {
  for (name in names(cases)) {
    cs <- cases[[name]]
    d <- getDesignGroupSequential(kMax = length(cs$stage), alpha = 0.025, sided = 1, typeOfDesign = cs$spending)
    r <- simulate_case(cs$stage, 2, cs$delta, cs$sigma, d$criticalValues, cs$seed)
    cat(name, "overallReject", r$overallReject, "MCSE", r$mcse$overallReject, "\n")
  }
}
