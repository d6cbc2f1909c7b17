# Sixty-second round: the t test on all the data (benchmarks/t_power_check.R)
# for the continuous design of `run.py --sweep 12 --sweep-seed 62` furthest from rpact (continuous-4: looks at 30, 60,
# 90, 120 and 150 patients, 1:1, difference 0.5, SD 1.5, O'Brien-Fleming-type spending).
# Run from the repository's root: Rscript <this file>
# Output (R 4.2.2, rpact 3.3.4, 4 s): overallReject 0.515823 (MCSE 0.00050); condapprove 0.51514 at 10^5 replicates
# (-r62-sweep62.json): 0.41 combined standard errors below; rpact getSimulationMeans 0.52122 (2.72 from condapprove).
source("benchmarks/t_power_check.R")
# the design: its per-arm stage sizes, the difference, the SD, rpact's spending and the seed
cases <- list(continuous_4 = list(stage = rep(15, 5), delta = 0.5, sigma = 1.5, spending = "asOF", seed = 624))
check_t_power(cases)
