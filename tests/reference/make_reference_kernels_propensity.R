# Reference values for condapprove.kernels.propensity (batched propensity-score kernels).
#
# Run from the repository root:
#     Rscript tests/reference/make_reference_kernels_propensity.R
# Writes tests/reference/kernels_propensity.json.
#
# Needs jsonlite and sandwich (Debian: r-cran-jsonlite, r-cran-sandwich).
#
# Written from the definitions, independently of the Python code:
#   * logistic propensity model: glm(t ~ X, binomial), epsilon = 1e-10 (tighter values
#     shrink glm's QR tolerance, epsilon / 1000, below the rounding of an exact alias); aliased
#     (rank-deficient) coefficients are NA in R and null in the JSON, the fitted values are
#     the maximum-likelihood ones;
#   * weighted difference: lm(y ~ t, weights = w), coefficient of t, sqrt of
#     sandwich::vcovHC(type = "HC0" .. "HC3")[2, 2];
#   * regression adjustment: lm(y ~ t + X), coefficient of t, vcovHC(HC0 .. HC3) (for a
#     rank-deficient design the aliased columns are dropped first, as lm does).
#
# Cases: continuous and binary outcomes, small n, binary and normal covariates, a covariate
# constant in the sample, two collinear covariates, unequal weights with ties, p = 3, and only
# binary covariates (with and without an alias).

suppressPackageStartupMessages({
  library(jsonlite)
  library(sandwich)
})

out_path <- file.path("tests", "reference", "kernels_propensity.json")

hc_types <- c("HC0", "HC1", "HC2", "HC3")

lm_t <- function(fit) {
  # drop aliased columns and refit, so that vcovHC sees a full-rank design
  mm <- model.matrix(fit)
  keep <- !is.na(coef(fit))
  mm <- mm[, keep, drop = FALSE]
  j <- which(colnames(mm) == "t")
  y <- model.response(model.frame(fit))
  w <- weights(fit)
  refit <- if (is.null(w)) lm(y ~ mm - 1) else lm(y ~ mm - 1, weights = w)
  se <- sapply(hc_types, function(type) sqrt(vcovHC(refit, type = type)[j, j]))
  list(estimate = unname(coef(refit)[j]), se = as.list(setNames(unname(se), hc_types)))
}

make_case <- function(name, y, t, X, w, outcome) {
  X <- as.matrix(X)
  colnames(X) <- paste0("x", seq_len(ncol(X)))
  d <- data.frame(y = y, t = t, X)
  # propensity model
  ps_fit <- glm(reformulate(colnames(X), "t"), family = binomial, data = d,
                control = glm.control(epsilon = 1e-10, maxit = 100))
  # weighted difference
  wd <- lm(y ~ t, data = d, weights = w)
  wd_t <- lm_t(wd)
  ud <- lm(y ~ t, data = d)
  ud_t <- lm_t(ud)
  # regression adjustment
  ra <- lm(reformulate(c("t", colnames(X)), "y"), data = d)
  ra_t <- lm_t(ra)
  list(
    name = name,
    outcome = outcome,
    y = y, t = t, X = unname(split(X, col(X))), w = w,
    ps_coef = unname(coef(ps_fit)),
    ps_fitted = unname(fitted(ps_fit)),
    weighted_difference = wd_t,
    unweighted_difference = ud_t,
    regression = ra_t,
    regression_rank = ra$rank
  )
}

cases <- list()

# 1. continuous outcome, normal + binary covariate, n = 60
set.seed(101)
n <- 60
x1 <- round(rnorm(n), 4); x2 <- rbinom(n, 1, 0.4)
t <- rbinom(n, 1, plogis(-0.3 + 0.7 * x1 + 0.6 * x2))
y <- round(1 + 0.5 * t + x1 - x2 + rnorm(n, 0, 1 + 0.5 * t), 4)
w <- round(runif(n, 0.2, 3), 3)
cases[[length(cases) + 1]] <- make_case("cont60", y, t, cbind(x1, x2), w, "continuous")

# 2. binary outcome, small n = 25, binary + normal covariate
set.seed(202)
n <- 25
x1 <- rbinom(n, 1, 0.5); x2 <- round(rnorm(n, 50, 10), 1)
t <- rep(c(1, 0), c(11, 14))
y <- rbinom(n, 1, 0.3 + 0.3 * x1)
w <- ifelse(t == 1, 1, round(runif(n, 0.1, 2), 2))
cases[[length(cases) + 1]] <- make_case("bin25", y, t, cbind(x1, x2), w, "binary")

# 3. binary outcome, n = 200, three covariates
set.seed(303)
n <- 200
X <- cbind(rbinom(n, 1, 0.3), round(rnorm(n), 4), round(rnorm(n, 0, 2), 4))
t <- rbinom(n, 1, plogis(-0.5 + X %*% c(0.8, 0.5, -0.3)))
y <- rbinom(n, 1, plogis(-1 + 0.4 * t + X %*% c(0.6, 0.3, 0.1)))
w <- round(rexp(n), 4)
cases[[length(cases) + 1]] <- make_case("bin200p3", y, t, X, w, "binary")

# 4. a covariate constant in the sample (rank-deficient design)
set.seed(404)
n <- 40
x1 <- round(rnorm(n), 4); x2 <- rep(1, n)
t <- rbinom(n, 1, plogis(0.5 * x1))
y <- round(2 + t + x1 + rnorm(n), 4)
w <- rep(c(1, 2), n / 2)
cases[[length(cases) + 1]] <- make_case("constant40", y, t, cbind(x1, x2), w, "continuous")

# 5. two collinear covariates (x2 = 2 x1 - 1)
set.seed(505)
n <- 50
x1 <- rbinom(n, 1, 0.5); x2 <- 2 * x1 - 1
t <- rbinom(n, 1, plogis(-0.2 + 0.9 * x1))
y <- rbinom(n, 1, 0.25 + 0.4 * x1)
w <- round(runif(n, 0.5, 1.5), 3)
cases[[length(cases) + 1]] <- make_case("collinear50", y, t, cbind(x1, x2), w, "binary")

# 6. tiny sample, n = 9, one covariate, ties in y and w
set.seed(606)
n <- 9
x1 <- c(0.2, -1.1, 0.5, 1.3, -0.4, 0.9, -0.7, 0.1, 1.8)
t <- c(1, 1, 1, 1, 0, 0, 0, 0, 0)
y <- c(3, 5, 3, 4, 1, 2, 2, 1, 4)
w <- c(1, 1, 2, 2, 0.5, 0.5, 1, 1, 3)
cases[[length(cases) + 1]] <- make_case("tiny9", y, t, cbind(x1), w, "continuous")

# 7. three binary covariates, as the simulation's confounders (condapprove fits these over covariate cells)
set.seed(707)
n <- 120
X <- cbind(rbinom(n, 1, 0.4), rbinom(n, 1, 0.25), rbinom(n, 1, 0.6))
t <- rbinom(n, 1, plogis(-0.3 + X %*% c(0.9, -0.6, 0.4)))
y <- rbinom(n, 1, plogis(-1 + 0.5 * t + X %*% c(0.7, 0.2, -0.3)))
w <- round(runif(n, 0.5, 2), 3)
cases[[length(cases) + 1]] <- make_case("binary3_120", y, t, X, w, "binary")

# 8. two binary covariates, one the complement of the other (aliased, over covariate cells too)
set.seed(808)
n <- 80
x1 <- rbinom(n, 1, 0.5); x2 <- 1 - x1
t <- rbinom(n, 1, plogis(-0.4 + 1.1 * x1))
y <- round(1 + 0.6 * t + x1 + rnorm(n), 4)
w <- round(rexp(n) + 0.2, 4)
cases[[length(cases) + 1]] <- make_case("binary_alias80", y, t, cbind(x1, x2), w, "continuous")

ref <- list(
  generated_by = "tests/reference/make_reference_kernels_propensity.R",
  r_version = R.version.string,
  sandwich_version = as.character(packageVersion("sandwich")),
  cases = cases
)
write_json(ref, out_path, digits = NA, auto_unbox = TRUE, na = "null", null = "null", pretty = FALSE)
cat("wrote", out_path, "\n")
