# Reference values for analysis.validity (issue 18 item 3). Run once:
#   Rscript validity.R > validity.out
# (R and Debian's r-cran-lavaan / r-cran-psych; versions printed on the first line).
# 9 (不清楚) and blanks are missing; each dimension drops its incomplete rows (listwise).
# Per dimension with >= 3 items: lavaan cfa(std.lv = TRUE), std.all loadings, CR and AVE;
# with >= 2 items psych::alpha r.drop (corrected item-total) on the same complete rows.
# "all" is one factor over every item but the overall item and c1 (c1 is answered by
# about 15 % of respondents, below the 50 % rule of analysis.validity).
# R²: lm(overall ~ dimension scores), a score = mean of the dimension's items, NA if any
# is missing; complaint (c1) left out by the same 50 % rule; lm drops incomplete rows.
suppressPackageStartupMessages({library(lavaan); library(psych)})
cat(sprintf("# R %s, lavaan %s, psych %s\n", getRversion(), packageVersion("lavaan"),
            packageVersion("psych")))
d <- read.csv("responses.csv")
d[d == 9] <- NA
dims <- list(service = c("s1", "s2", "s3", "s4"), fairness = c("f1", "f2", "f3"),
             information = c("i1", "i2"), payment = "p1")
all_items <- unlist(dims, use.names = FALSE)
out <- function(name, values) cat(name, sprintf("%.10f", values), "\n")
for (name in c(names(dims), "all")) {
  items <- if (name == "all") all_items else dims[[name]]
  x <- na.omit(d[items])
  out(paste0(name, "_n"), nrow(x))
  if (length(items) >= 2) {
    a <- alpha(x, warnings = FALSE)
    out(paste0(name, "_r_drop"), a$item.stats$r.drop)
  }
  if (length(items) >= 3) {
    fit <- cfa(paste("f =~", paste(items, collapse = " + ")), data = x, std.lv = TRUE)
    ss <- standardizedSolution(fit)
    lam <- ss$est.std[ss$op == "=~"]
    out(paste0(name, "_loadings"), lam)
    out(paste0(name, "_cr"), sum(lam)^2 / (sum(lam)^2 + sum(1 - lam^2)))
    out(paste0(name, "_ave"), mean(lam^2))
  }
}
scores <- sapply(dims, function(items) rowMeans(d[items]))
fit <- lm(d$overall ~ scores)
s <- summary(fit)
out("r2_n", nobs(fit))
out("r2", s$r.squared)
out("adj_r2", s$adj.r.squared)
