# Fifty-ninth round: the t test on all the data (benchmarks/t_power_check.R)
# for the two continuous designs of `run.py --sweep 12 --sweep-seed 59` furthest from rpact (continuous-7 and -4).
# Run from the repository's root: Rscript <this file>
# Output (R 4.2.2, rpact 3.3.4): overallReject 0.989624 (MCSE 0.00010) and 0.464508 (0.00050); condapprove 0.98937
# and 0.46494 at 10^5 replicates (-r59-sweep59.json): -0.75 and 0.26 combined standard errors; rpact getSimulationMeans
# 0.9903 and 0.46849 (2.07 and 1.59 from condapprove).
source("benchmarks/t_power_check.R")
# each design: its per-arm stage sizes, the difference, the SD, rpact's spending and the seed
cases <- list(continuous_7 = list(stage = rep(30, 5), delta = 0.5, sigma = 1, spending = "asOF", seed = 591),
              continuous_4 = list(stage = rep(50, 2), delta = 0.4, sigma = 1.5, spending = "asOF", seed = 592))
check_t_power(cases)
