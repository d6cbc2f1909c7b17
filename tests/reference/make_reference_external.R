# Reference values for condapprove.estimate.external (propensity scores, greedy matching,
# IPTW weights, standardised mean differences, effects with sandwich standard errors).
#
# Run from the repository root:
#     Rscript tests/reference/make_reference_external.R
# Writes tests/reference/external.json.
#
# Needs jsonlite and sandwich (Debian: r-cran-jsonlite, r-cran-sandwich).  MatchIt
# (r-cran-matchit, 4.5.1 was used) is optional: when present, the independent greedy matching
# below and the treated-SD standardised mean differences are checked against it (stopifnot).
#
# Everything here is written from the definitions, independently of the Python code:
#   * propensity model: base glm(binomial), tight convergence;
#   * matching: for each treated unit (in the requested order, ratio rounds), the available
#     control minimising (|logit difference|, side [below first], distance in the stable
#     (logit, row) ordering), within the caliper;
#   * effects: lm / glm(quasibinomial) on the analysis sample with prior weights;
#     SEs from sandwich::vcovCL(type = "HC1") by matched set, vcovHC(type = "HC3") after
#     matching with replacement, vcovHC(type = "HC0") after IPTW, vcovHC(HC0..HC3) unadjusted.

suppressPackageStartupMessages({
  library(jsonlite)
  library(sandwich)
})
has_matchit <- requireNamespace("MatchIt", quietly = TRUE)

# ---------------------------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------------------------

make_datasets <- function() {
  out <- list()

  # 1. a use-results survey: 120 patients, treated vs historical controls, a 3-level centre
  set.seed(20210611)
  n <- 120
  age <- round(rnorm(n, 60, 10), 1)
  male <- rbinom(n, 1, 0.55)
  ecog1 <- rbinom(n, 1, 0.35)
  centre <- sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
  lp <- -1 + 0.04 * (age - 60) + 0.4 * male - 0.6 * ecog1 + 0.5 * (centre == "B")
  treat <- rbinom(n, 1, plogis(lp))
  y_bin <- rbinom(n, 1, plogis(-0.4 + 0.9 * treat - 0.03 * (age - 60) - 0.7 * ecog1))
  y_cont <- round(10 + 3 * treat + 0.1 * (age - 60) - 2 * ecog1 + rnorm(n, 0, 4), 3)
  out$cohort120 <- list(
    data = data.frame(age, male, ecog1, centre, treat, y_bin, y_cont, stringsAsFactors = FALSE),
    covariates = c("age", "male", "ecog1", "centre")
  )

  # 2. a small single-arm cohort (15 treated) against 25 historical controls
  set.seed(19)
  treat <- sample(rep(c(1, 0), c(15, 25)))
  age <- round(rnorm(40, 55 - 5 * treat, 9), 0)
  kps <- round(rnorm(40, 80 + 5 * treat, 8), 0)
  y_bin <- rbinom(40, 1, plogis(-0.5 + 1.2 * treat - 0.04 * (age - 55)))
  y_cont <- round(rnorm(40, 12 + 2 * treat, 3), 2)
  out$small40 <- list(
    data = data.frame(age, kps, treat, y_bin, y_cont),
    covariates = c("age", "kps")
  )

  # 3. binary covariates only: four distinct propensity scores, many ties
  set.seed(7)
  n <- 60
  x1 <- rbinom(n, 1, 0.5)
  x2 <- rbinom(n, 1, 0.4)
  treat <- rbinom(n, 1, plogis(-1 + 0.9 * x1 + 0.7 * x2))
  y_bin <- rbinom(n, 1, plogis(-0.3 + 0.8 * treat + 0.5 * x1))
  y_cont <- round(rnorm(n, 5 + treat + x2, 2), 2)
  out$ties60 <- list(
    data = data.frame(x1, x2, treat, y_bin, y_cont),
    covariates = c("x1", "x2")
  )

  # 4. poor overlap: many treated units lose their match to the caliper
  set.seed(2024)
  n <- 200
  z1 <- rnorm(n)
  z2 <- rnorm(n)
  treat <- rbinom(n, 1, plogis(-0.3 + 1.6 * z1 + 0.8 * z2))
  y_bin <- rbinom(n, 1, plogis(-1 + 0.5 * treat + 0.6 * z1))
  y_cont <- round(rnorm(n, 1 + 0.5 * treat + z1 + 0.5 * z2, 1), 3)
  out$overlap200 <- list(
    data = data.frame(z1, z2, treat, y_bin, y_cont),
    covariates = c("z1", "z2")
  )

  # 5. no events among the controls (x = 0): the risk difference is estimable, the odds ratio not
  set.seed(50)
  n <- 50
  sev <- round(rnorm(n, 0, 1), 3)
  treat <- rbinom(n, 1, plogis(-0.5 + 0.8 * sev))
  y_bin <- ifelse(treat == 1, rbinom(n, 1, 0.4), 0)
  y_cont <- round(rnorm(n, 2 * treat + sev, 1), 3)
  out$zero50 <- list(
    data = data.frame(sev, treat, y_bin, y_cont),
    covariates = c("sev")
  )
  out
}

# ---------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------

balance_matrix <- function(d, covs) {
  cols <- list()
  for (v in covs) {
    x <- d[[v]]
    if (is.character(x)) {
      lev <- sort(unique(x))
      if (length(lev) == 2) lev <- lev[-1]
      for (l in lev) cols[[paste0(v, "[", l, "]")]] <- as.numeric(x == l)
    } else {
      cols[[v]] <- as.numeric(x)
    }
  }
  as.data.frame(cols, check.names = FALSE)
}

grp_var <- function(x) {
  if (all(x == 0 | x == 1)) mean(x) * (1 - mean(x)) else var(x)
}

smd_table <- function(B, treat, w = NULL) {
  res <- lapply(names(B), function(v) {
    x <- B[[v]]
    x1 <- x[treat == 1]
    x0 <- x[treat == 0]
    s_pooled <- sqrt((grp_var(x1) + grp_var(x0)) / 2)
    s_treated <- sqrt(grp_var(x1))
    if (is.null(w)) {
      m1 <- mean(x1)
      m0 <- mean(x0)
    } else {
      m1 <- sum(w[treat == 1] * x1) / sum(w[treat == 1])
      m0 <- sum(w[treat == 0] * x0) / sum(w[treat == 0])
    }
    c(m1 = m1, m0 = m0, smd_pooled = (m1 - m0) / s_pooled, smd_treated = (m1 - m0) / s_treated)
  })
  res <- do.call(rbind, res)
  list(names = names(B), binary = vapply(B, function(x) all(x == 0 | x == 1), logical(1)),
       mean_treated = unname(res[, "m1"]), mean_control = unname(res[, "m0"]),
       smd_pooled = unname(res[, "smd_pooled"]), smd_treated = unname(res[, "smd_treated"]))
}

greedy_match <- function(lp, treat, width, ratio, replace, m_order) {
  n <- length(lp)
  pos <- integer(n)
  pos[order(lp)] <- seq_len(n)          # order() is stable: ties keep row order
  tr <- which(treat == 1)
  seq_t <- switch(m_order,
                  largest = tr[order(lp[tr], decreasing = TRUE)],
                  smallest = tr[order(lp[tr])],
                  data = tr)
  avail <- treat == 0
  mm <- matrix(0L, length(tr), ratio)   # 0 = no match (1-based rows otherwise)
  pairs <- matrix(integer(0), 0, 2)
  for (r in seq_len(ratio)) {
    for (i in seq_t) {
      row <- match(i, tr)
      cand <- which(avail)
      cand <- setdiff(cand, mm[row, ])
      if (!is.null(width)) cand <- cand[abs(lp[cand] - lp[i]) <= width]
      if (length(cand) == 0) next
      dist <- abs(lp[cand] - lp[i])
      above <- pos[cand] > pos[i]
      k <- cand[order(dist, above, abs(pos[cand] - pos[i]))[1]]
      mm[row, r] <- k
      pairs <- rbind(pairs, c(i, k))
      if (!replace) avail[k] <- FALSE
    }
  }
  w <- numeric(n)
  subclass <- rep(0L, n)
  s <- 0L
  for (row in seq_along(tr)) {
    ctrl <- mm[row, mm[row, ] > 0]
    if (length(ctrl) == 0) next
    w[tr[row]] <- 1
    w[ctrl] <- w[ctrl] + 1 / length(ctrl)
    s <- s + 1L
    subclass[c(tr[row], ctrl)] <- s
  }
  ctrl_used <- treat == 0 & w > 0
  w[ctrl_used] <- w[ctrl_used] * sum(ctrl_used) / sum(w[ctrl_used])
  list(match_matrix = mm, pairs = pairs, weights = w, subclass = if (replace) NULL else subclass,
       n_unmatched = sum(mm[, 1] == 0))
}

# MatchIt 4.5.1 (Debian bookworm) compares distances with C's integer abs() in its
# nearest-neighbour C++ code (MatchIt issue #163, "Caliper not working as intended on versions
# 4.5.1 - 4.5.3"): |logit differences| below 1 truncate to 0, so the caliper is ignored and the
# left neighbour always wins.  To still cross-check the greedy algorithm (order, rounds, tie
# rule, weights) we hand MatchIt the logits multiplied by 1e6, where truncation only blurs
# differences below 1e-6; the comparison is recorded (and printed) rather than enforced, since
# two candidate controls within 1e-6 of each other could legitimately differ.
# Expected outcome with MatchIt 4.5.1: agreement for every 1:1 configuration (including the tie
# data set ties60); "ratio2" differs on cohort120 and zero50 because 4.5.1's second-round check
# "already matched to this treated unit" compares a 0-based with a 1-based row index (it skips
# the control in the row after the first match instead of the first match itself).  Mimicking
# that off-by-one in greedy_match() reproduces MatchIt 4.5.1 in all 30 configurations.
matchit_scale <- 1e6
matchit_agreement <- list()

check_against_matchit <- function(d, covs, lp, cfg, width, gm, label) {
  if (!has_matchit) return(invisible(NULL))
  f <- reformulate(covs, response = "treat")
  args <- list(formula = f, data = d, method = "nearest", distance = lp * matchit_scale,
               ratio = cfg$ratio, replace = cfg$replace, m.order = cfg$order)
  if (!is.null(width)) {
    args$caliper <- width * matchit_scale
    args$std.caliper <- FALSE
  }
  m <- suppressWarnings(do.call(MatchIt::matchit, args))
  mm <- m$match.matrix
  mm_num <- matrix(0L, nrow(mm), ncol(mm))
  mm_num[!is.na(mm)] <- match(mm[!is.na(mm)], rownames(d))
  same <- identical(mm_num, gm$match_matrix)
  if (!same) cat("MatchIt (scaled) differs:", label, "\n")
  matchit_agreement[[label]] <<- same
  # MatchIt's matching weights for *our* match matrix
  mm_chr <- matrix(NA_character_, nrow(gm$match_matrix), ncol(gm$match_matrix),
                   dimnames = list(rownames(d)[d$treat == 1], NULL))
  mm_chr[gm$match_matrix > 0] <- rownames(d)[gm$match_matrix[gm$match_matrix > 0]]
  tr <- setNames(d$treat, rownames(d))
  w_mi <- MatchIt:::weights.matrix(mm_chr, tr)
  stopifnot(isTRUE(all.equal(unname(w_mi), gm$weights, tolerance = 1e-12)))
  invisible(NULL)
}

sandwich_fits <- function(y, treat, w, type, cluster = NULL, logistic = TRUE) {
  dd <- data.frame(y = y, treat = treat, w = w)
  fit <- lm(y ~ treat, data = dd, weights = w)
  v <- if (type == "CR1") vcovCL(fit, cluster = cluster, type = "HC1") else vcovHC(fit, type = type)
  out <- list(effect = unname(coef(fit)[2]), se = sqrt(v[2, 2]),
              mean_treated = sum(w[treat == 1] * y[treat == 1]) / sum(w[treat == 1]),
              mean_control = sum(w[treat == 0] * y[treat == 0]) / sum(w[treat == 0]))
  if (logistic && all(c(out$mean_treated, out$mean_control) > 0) &&
      all(c(out$mean_treated, out$mean_control) < 1)) {
    g <- glm(y ~ treat, data = dd, weights = w, family = quasibinomial(),
             control = glm.control(epsilon = 1e-14, maxit = 100))
    vg <- if (type == "CR1") vcovCL(g, cluster = cluster, type = "HC1") else vcovHC(g, type = type)
    closed <- qlogis(out$mean_treated) - qlogis(out$mean_control)
    stopifnot(abs(unname(coef(g)[2]) - closed) < 1e-10)
    out$log_odds_ratio <- unname(coef(g)[2])
    out$log_odds_ratio_se <- sqrt(vg[2, 2])
  }
  out
}

matching_configs <- list(
  list(name = "default", caliper = 0.2, scale = "logit-sd", ratio = 1, replace = FALSE, order = "largest"),
  list(name = "no_caliper", caliper = NULL, scale = "logit-sd", ratio = 1, replace = FALSE, order = "largest"),
  list(name = "ratio2", caliper = 0.2, scale = "logit-sd", ratio = 2, replace = FALSE, order = "largest"),
  list(name = "replace", caliper = 0.2, scale = "logit-sd", ratio = 1, replace = TRUE, order = "largest"),
  list(name = "pooled_smallest", caliper = 0.25, scale = "logit-pooled-sd", ratio = 1, replace = FALSE,
       order = "smallest"),
  list(name = "data_order_abs", caliper = 0.1, scale = "logit", ratio = 1, replace = FALSE, order = "data")
)

# ---------------------------------------------------------------------------------------------
# one data set
# ---------------------------------------------------------------------------------------------

reference_for <- function(ds, ds_name) {
  d <- ds$data
  covs <- ds$covariates
  rownames(d) <- as.character(seq_len(nrow(d)))
  d_glm <- d
  for (v in covs) if (is.character(d_glm[[v]])) d_glm[[v]] <- factor(d_glm[[v]])
  ps_fit <- glm(reformulate(covs, response = "treat"), data = d_glm, family = binomial(),
                control = glm.control(epsilon = 1e-13, maxit = 100))
  stopifnot(ps_fit$converged)
  ps <- unname(fitted(ps_fit))
  lp <- unname(predict(ps_fit, type = "link"))
  treat <- d$treat
  B <- balance_matrix(d, covs)

  out <- list(
    data = as.list(d),
    covariates = covs,
    ps = list(coef = unname(coef(ps_fit)), coef_names = names(coef(ps_fit)),
              se = unname(sqrt(diag(vcov(ps_fit)))), scores = ps, linear_predictor = lp,
              log_likelihood = as.numeric(logLik(ps_fit)), deviance = deviance(ps_fit)),
    balance_before = smd_table(B, treat)
  )

  # ---- matching ------------------------------------------------------------------------------
  out$matching <- lapply(matching_configs, function(cfg) {
    width <- switch(cfg$scale,
                    "logit-sd" = if (is.null(cfg$caliper)) NULL else cfg$caliper * sd(lp),
                    "logit-pooled-sd" = cfg$caliper * sqrt((var(lp[treat == 1]) + var(lp[treat == 0])) / 2),
                    "logit" = cfg$caliper)
    gm <- greedy_match(lp, treat, width, cfg$ratio, cfg$replace, cfg$order)
    check_against_matchit(d, covs, lp, cfg, width, gm, paste(ds_name, cfg$name))
    used <- gm$weights > 0
    se_type <- if (cfg$replace) "HC3" else "CR1"
    cl <- if (cfg$replace) NULL else gm$subclass[used]
    bin <- sandwich_fits(d$y_bin[used], treat[used], gm$weights[used], se_type, cl)
    cont <- sandwich_fits(d$y_cont[used], treat[used], gm$weights[used], se_type, cl, logistic = FALSE)
    bal <- smd_table(B, treat, gm$weights)
    if (has_matchit) {
      # MatchIt's balance statistic (treated-group SD, p(1 - p) for binary covariates)
      for (j in seq_along(B)) {
        for (ww in list(NULL, gm$weights)) {
          mit <- MatchIt:::bal1var(B[[j]], treat, ww = ww, s.weights = rep(1, nrow(d)),
                                   s.d.denom = "treated", standardize = TRUE, compute.pair.dist = FALSE)
          ours <- if (is.null(ww)) smd_table(B, treat) else bal
          if (abs(ours$mean_treated[j] - ours$mean_control[j]) > 1e-7)
            stopifnot(abs(mit[["Std. Mean Diff."]] - ours$smd_treated[j]) < 1e-10)
        }
      }
    }
    list(name = cfg$name, caliper = if (is.null(cfg$caliper)) NA else cfg$caliper,
         caliper_scale = cfg$scale, ratio = cfg$ratio, replace = cfg$replace, order = cfg$order,
         caliper_width = if (is.null(width)) NA else width,
         match_matrix = gm$match_matrix, pairs = gm$pairs, weights = gm$weights,
         subclass = if (is.null(gm$subclass)) NA else gm$subclass,
         n_unmatched_treated = gm$n_unmatched, se_type = se_type,
         binary = bin, continuous = cont, balance_after = bal)
  })

  # ---- IPTW ----------------------------------------------------------------------------------
  iptw <- list()
  for (estimand in c("ATT", "ATE")) {
    for (stab in c(TRUE, FALSE)) {
      w <- if (estimand == "ATE") ifelse(treat == 1, 1 / ps, 1 / (1 - ps)) else ifelse(treat == 1, 1, ps / (1 - ps))
      if (stab) w <- ifelse(treat == 1, w * mean(treat == 1), w * mean(treat == 0))
      ess <- function(v) sum(v)^2 / sum(v^2)
      iptw[[length(iptw) + 1]] <- list(
        estimand = estimand, stabilized = stab, weights = w,
        ess_treated = ess(w[treat == 1]), ess_control = ess(w[treat == 0]),
        binary = sandwich_fits(d$y_bin, treat, w, "HC0"),
        continuous = sandwich_fits(d$y_cont, treat, w, "HC0", logistic = FALSE),
        balance_after = smd_table(B, treat, w))
    }
  }
  out$iptw <- iptw

  # ---- no adjustment -------------------------------------------------------------------------
  none <- list()
  for (type in c("HC0", "HC1", "HC2", "HC3")) {
    none[[type]] <- list(binary = sandwich_fits(d$y_bin, treat, rep(1, nrow(d)), type),
                         continuous = sandwich_fits(d$y_cont, treat, rep(1, nrow(d)), type, logistic = FALSE))
  }
  # HC2 is the Welch standard error
  y1 <- d$y_cont[treat == 1]
  y0 <- d$y_cont[treat == 0]
  stopifnot(abs(none$HC2$continuous$se - sqrt(var(y1) / length(y1) + var(y0) / length(y0))) < 1e-10)
  out$none <- none
  out
}

datasets <- make_datasets()
ref <- Map(reference_for, datasets, names(datasets))
ref <- list(
  meta = list(
    generated_by = "tests/reference/make_reference_external.R",
    r_version = R.version.string,
    sandwich_version = as.character(packageVersion("sandwich")),
    matchit_checked = has_matchit,
    matchit_version = if (has_matchit) as.character(packageVersion("MatchIt")) else NA,
    matchit_scaled_agreement = matchit_agreement
  ),
  datasets = ref
)
out_path <- file.path("tests", "reference", "external.json")
write_json(ref, out_path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
cat("wrote", out_path, "\n")
