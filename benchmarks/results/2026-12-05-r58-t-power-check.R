# Fifty-eighth round: the t test on all the data (benchmarks/t_power_check.R)
# for the two continuous designs of `run.py --sweep 12 --sweep-seed 58` furthest from rpact (continuous-7 and -10).
# Run from the repository's root: Rscript <this file>
# Output (R 4.2.2, rpact 3.3.4): overallReject 0.68621 (MCSE 0.00046) and 0.796707 (0.00040); condapprove 0.68406
# and 0.79574 at 10^5 replicates (-r58-sweep58.json): 1.40 and 0.72 combined standard errors; rpact getSimulationMeans
# 0.69409 and 0.79945 (4.85 and 2.06 from condapprove).
source("benchmarks/t_power_check.R")
# each design: its per-arm stage sizes, the difference, the SD, rpact's spending and the seed
cases <- list(continuous_7 = list(stage = rep(10, 5), delta = 0.5, sigma = 1, spending = "asOF", seed = 581),
              continuous_10 = list(stage = rep(75, 4), delta = 0.5, sigma = 2, spending = "asP", seed = 582))
check_t_power(cases)
