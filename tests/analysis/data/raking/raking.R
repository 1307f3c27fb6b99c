# Reference values for analysis.raking (issue 18). Run once:  Rscript raking.R > raking.out
# (R 4.2.2, Debian r-cran-survey 4.1.1).
# Design: strata = household group, fpc = roster households N_h (design weight N_h/r_h);
# rake() to the roster's margins group x community and group x project, to convergence
# (epsilon 1e-12 of the total); estimates are, per item, the groups' ratio means
# sum(w y v)/sum(w v) (v = valid answer, 9 = not applicable) combined with the roster
# shares of the groups with a valid answer; their SEs by svycontrast (delta method) of
# svytotal on the raked design (R's linearisation of a raked design).
library(survey)
d <- read.csv("responses.csv", stringsAsFactors = FALSE)
roster <- read.csv("roster.csv", stringsAsFactors = FALSE)
Nh <- table(roster$grp)
d$N <- as.numeric(Nh[d$grp])
d$gc <- paste(d$grp, d$comm, sep = ":")
d$gp <- paste(d$grp, d$proj, sep = ":")
pop_gc <- as.data.frame(table(gc = paste(roster$grp, roster$comm, sep = ":")))
pop_gp <- as.data.frame(table(gp = paste(roster$grp, roster$proj, sep = ":")))
des <- svydesign(ids = ~1, strata = ~grp, fpc = ~N, data = d)
raked <- rake(des, list(~gc, ~gp), list(pop_gc, pop_gp),
              control = list(maxit = 200, epsilon = 1e-12))
groups <- sort(unique(d$grp))
items <- c("q1", "q2", "overall")
measures <- list(rate = function(y) as.numeric(y >= 4), index = function(y) 25 * (y - 1))
vars <- character(0)
for (j in items) for (h in groups) for (m in names(measures)) {
  v <- as.numeric(d[[j]] %in% 1:5 & d$grp == h)
  raked$variables[[paste0("V_", j, "_", h)]] <- v
  raked$variables[[paste0("Y", m, "_", j, "_", h)]] <- ifelse(v == 1, measures[[m]](d[[j]]), 0)
  vars <- union(vars, c(paste0("V_", j, "_", h), paste0("Y", m, "_", j, "_", h)))
}
tot <- svytotal(make.formula(vars), raked)
item_expr <- function(j, m) {
  hs <- groups[sapply(groups, function(h) sum(raked$variables[[paste0("V_", j, "_", h)]]) > 0)]
  w <- Nh[hs] / sum(Nh[hs])
  paste0("(", paste0(sprintf("%.17g", w), " * Y", m, "_", j, "_", hs, " / V_", j, "_", hs,
                     collapse = " + "), ")")
}
contrasts <- list()
for (j in items) for (m in names(measures))
  contrasts[[paste(j, m, sep = "_")]] <- parse(text = item_expr(j, m))[[1]]
# composite: mean of the indices of q1 and q2 (one dimension each)
contrasts[["composite"]] <- parse(text = paste0("(", item_expr("q1", "index"), " + ",
                                                item_expr("q2", "index"), ") / 2"))[[1]]
est <- svycontrast(tot, contrasts)
w <- weights(raked)
cat(sprintf("%s %.12f %.12f\n", names(coef(est)), coef(est), SE(est)), sep = "")
cat(sprintf("weight_%d %.12f 0\n", 1:5, w[1:5]), sep = "")
cat(sprintf("weight_sum %.12f 0\n", sum(w)))
