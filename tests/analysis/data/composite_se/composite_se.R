# Reference SE of the composite index when a household group has no valid answer to an
# item (issue 18). Run once:  Rscript composite_se.R  (R 4.x, Debian r-cran-survey).
# Composite C = mean over dimensions {housing: q1, q2; service: q3, q4} of the mean item
# index 25 (m_j - 1); m_j = sum_{h in A_j} N_h m_hj / sum_{h in A_j} N_h over the groups A_j
# with a valid answer to item j (9 = not applicable); m_hj = valid-answer mean in group h.
# (1) Taylor linearisation: svytotal of every numerator y_j v_j 1[h] and denominator
#     v_j 1[h], then svycontrast of the nonlinear C (delta method), stratified design
#     with fpc = N_h (respondents sampled from the group's roster households).
# (2) Stratified jackknife (JKn, with the fpc) of the same estimator, an independent
#     variance method.
library(survey)
d <- read.csv("responses.csv", stringsAsFactors = FALSE)
items <- c("q1", "q2", "q3", "q4")
dims <- list(housing = c("q1", "q2"), service = c("q3", "q4"))
groups <- sort(unique(d$stratum))
for (j in items) for (h in groups) {
  v <- as.numeric(d[[j]] %in% 1:5 & d$stratum == h)
  d[[paste0("V_", j, "_", h)]] <- v
  d[[paste0("Y_", j, "_", h)]] <- ifelse(v == 1, d[[j]], 0)
}
des <- svydesign(ids = ~1, strata = ~stratum, fpc = ~N, data = d)
Nh <- tapply(d$N, d$stratum, function(x) x[1])
present <- function(j) groups[sapply(groups, function(h) sum(d[[paste0("V_", j, "_", h)]]) > 0)]
item_expr <- function(j) {
  hs <- present(j)
  w <- Nh[hs] / sum(Nh[hs])
  paste0("(", paste0(sprintf("%.17g", w), " * Y_", j, "_", hs, " / V_", j, "_", hs,
                     collapse = " + "), ")")
}
dim_expr <- sapply(dims, function(js) paste0("(", paste0("25 * (", sapply(js, item_expr),
                                                     " - 1)", collapse = " + "), ") / ",
                                            length(js)))
composite <- parse(text = paste0("(", paste(dim_expr, collapse = " + "), ") / ",
                                 length(dims)))[[1]]
vars <- grep("^[YV]_", names(d), value = TRUE)
tot <- svytotal(make.formula(vars), des)
lin <- svycontrast(tot, list(composite = composite))
jk <- as.svrepdesign(des, type = "JKn")
jkest <- withReplicates(jk, function(w, data) {
  t <- colSums(w * data[, vars])
  eval(composite, as.list(t))
})
cat(sprintf("composite %.10f\nlinearised_se %.10f\njackknife_se %.10f\n",
            coef(lin), SE(lin), SE(jkest)))
