# Fifty-fifth round: the t test on all the data (simulate_case of tests/reference/make_reference_t_power.R, lines 37-85)
# for the two continuous designs of `run.py --sweep 12 --sweep-seed 55` furthest from rpact. Run: Rscript <this file>
# Output (R 4.2.2, rpact 3.3.4): overallReject 0.582899 (MCSE 0.00049) and 0.225846 (0.00042); condapprove 0.58186
# and 0.2256 at 10^5 replicates (-r55-sweep55.json), rpact getSimulationMeans 0.59159 and 0.23027.
suppressPackageStartupMessages(library(rpact)); R_REPS <- 1000000L; BATCH <- 200000L
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
d <- getDesignGroupSequential(kMax = 5, alpha = 0.025, sided = 1, typeOfDesign = "asP")
r <- simulate_case(rep(15, 5), 2, 0.4, 1, d$criticalValues, 551)
print(r)
d2 <- getDesignGroupSequential(kMax = 2, alpha = 0.025, sided = 1, typeOfDesign = "asP")
r2 <- simulate_case(rep(25, 2), 2, 0.4, 1.5, d2$criticalValues, 552)
print(r2)
