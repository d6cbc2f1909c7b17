# Fifty-fifth round: the t test on all the data (simulate_case of tests/reference/make_reference_t_power.R, evaluated from it)
# for the two continuous designs of `run.py --sweep 12 --sweep-seed 55` furthest from rpact. Run from the repository's root: Rscript <this file>
# Output (R 4.2.2, rpact 3.3.4): overallReject 0.582899 (MCSE 0.00049) and 0.225846 (0.00042); condapprove 0.58186
# and 0.2256 at 10^5 replicates (-r55-sweep55.json), rpact getSimulationMeans 0.59159 and 0.23027.
suppressPackageStartupMessages(library(rpact)); R_REPS <- 1000000L; BATCH <- 200000L
# simulate_case, evaluated from the reference script itself (run from the repository's root)
for (e in parse("tests/reference/make_reference_t_power.R")) {
  if (is.call(e) && identical(e[[1]], as.name("<-")) && identical(e[[2]], as.name("simulate_case"))) eval(e)
}
d <- getDesignGroupSequential(kMax = 5, alpha = 0.025, sided = 1, typeOfDesign = "asP")
r <- simulate_case(rep(15, 5), 2, 0.4, 1, d$criticalValues, 551)
print(r)
d2 <- getDesignGroupSequential(kMax = 2, alpha = 0.025, sided = 1, typeOfDesign = "asP")
r2 <- simulate_case(rep(25, 2), 2, 0.4, 1.5, d2$criticalValues, 552)
print(r2)
