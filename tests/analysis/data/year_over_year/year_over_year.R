# Reference values of the year-over-year change (issue 18 item 2). Run once:
#   Rscript year_over_year.R > year_over_year.out      (R 4.x, base R only)
# estimates.csv holds the demo's stored per-year estimates and standard errors, as the
# scores documents of heshan-2021 (current) and heshan-2020 (previous) report them (design
# weights, no filters; made with `survey-app scores heshan-2021 --format json`, the figures
# compared in its year_over_year section). The two years are independent samples:
# change = current - previous, SE = sqrt(SE_current^2 + SE_previous^2),
# 95% normal interval change -/+ qnorm(0.975) SE, P(true change >= 0) = pnorm(change / SE).
d <- read.csv("estimates.csv", stringsAsFactors = FALSE)
d$change <- d$current - d$previous
d$se <- sqrt(d$current_se^2 + d$previous_se^2)
z <- qnorm(0.975)
d$low <- d$change - z * d$se
d$high <- d$change + z * d$se
d$p_not_lower <- pnorm(d$change / d$se)
out <- d[, c("group", "figure", "dimension", "change", "se", "low", "high", "p_not_lower")]
for (k in c("change", "se", "low", "high", "p_not_lower")) out[[k]] <- sprintf("%.15g", out[[k]])
write.csv(out, stdout(), row.names = FALSE, quote = FALSE)
