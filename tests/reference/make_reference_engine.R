# Reference values for the binary post-marketing engine (tests/test_engine.py).
# Run from the repository root:  Rscript tests/reference/make_reference_engine.R
# Writes tests/reference/engine_binary.json. R's own functions (binom.test, fisher.test) give the p-values;
# exact power at fixed n is summed over all outcomes here, independently of the Python code.
options(digits = 15)
num <- function(x) sprintf("%.15g", x)
vec <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")

# One-sided exact binomial p-values P(X >= x), X ~ Bin(n, p0)
binom_cases <- list()
for (n in c(1, 7, 13, 19, 60)) for (p0 in c(0.15, 0.3, 0.5)) for (x in unique(c(0, 1, floor(n / 2), n - 1, n))) {
  if (x < 0) next
  p <- binom.test(x, n, p0, alternative = "greater")$p.value
  binom_cases[[length(binom_cases) + 1]] <- sprintf('{"x": %d, "n": %d, "p0": %s, "pvalue": %s}', x, n, num(p0), num(p))
}

# One-sided Fisher exact p-values (treated greater)
fisher_cases <- list()
for (nt in c(3, 10, 35)) for (nc in c(4, 10, 70)) for (xt in unique(c(0, 1, floor(nt / 2), nt))) for (xc in unique(c(0, floor(nc / 4), nc))) {
  tab <- matrix(c(xt, nt - xt, xc, nc - xc), nrow = 2, byrow = TRUE)
  p <- fisher.test(tab, alternative = "greater")$p.value
  fisher_cases[[length(fisher_cases) + 1]] <- sprintf('{"xt": %d, "nt": %d, "xc": %d, "nc": %d, "pvalue": %s}', xt, nt, xc, nc, num(p))
}

# Exact power at fixed sizes: single arm (exact binomial) and two arms (Fisher), alpha = 0.025
power_single <- function(n, p, p0, alpha) {
  x <- 0:n
  pv <- sapply(x, function(k) binom.test(k, n, p0, alternative = "greater")$p.value)
  sum(dbinom(x, n, p)[pv <= alpha])
}
power_fisher <- function(nt, nc, pt, pc, alpha) {
  tot <- 0
  for (xt in 0:nt) for (xc in 0:nc) {
    pv <- fisher.test(matrix(c(xt, nt - xt, xc, nc - xc), nrow = 2, byrow = TRUE), alternative = "greater")$p.value
    if (pv <= alpha) tot <- tot + dbinom(xt, nt, pt) * dbinom(xc, nc, pc)
  }
  tot
}
power_cases <- list()
for (cs in list(c(13, 0.6, 0.3), c(19, 0.5, 0.15), c(60, 0.45, 0.3), c(30, 0.3, 0.3))) {
  power_cases[[length(power_cases) + 1]] <- sprintf('{"test": "exact_binomial", "nt": %d, "pt": %s, "p0": %s, "alpha": 0.025, "power": %s}',
    cs[1], num(cs[2]), num(cs[3]), num(power_single(cs[1], cs[2], cs[3], 0.025)))
}
for (cs in list(c(10, 10, 0.7, 0.2), c(20, 40, 0.5, 0.25), c(15, 15, 0.3, 0.3))) {
  power_cases[[length(power_cases) + 1]] <- sprintf('{"test": "fisher", "nt": %d, "nc": %d, "pt": %s, "pc": %s, "alpha": 0.025, "power": %s}',
    cs[1], cs[2], num(cs[3]), num(cs[4]), num(power_fisher(cs[1], cs[2], cs[3], cs[4], 0.025)))
}

out <- paste0('{\n "generated_by": "tests/reference/make_reference_engine.R",\n "r_version": "', R.version.string, '",\n',
  ' "binom_greater": [', paste(binom_cases, collapse = ",\n  "), '],\n',
  ' "fisher_greater": [', paste(fisher_cases, collapse = ",\n  "), '],\n',
  ' "power_fixed_n": [', paste(power_cases, collapse = ",\n  "), ']\n}\n')
writeLines(out, "tests/reference/engine_binary.json")
