# lme4 fit of the primary model (or the previous model) for tests/analysis/test_lmm.py.
# Usage: Rscript lme4_fit.R data.csv primary|previous   -> "name value" lines on stdout.
suppressMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d$time <- factor(d$timepoint_months)
d$cluster <- factor(d$cluster)
d$period <- factor(d$period)
d$clinic <- factor(d$clinic)
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12))
if (args[2] == "primary") {
  d$pid <- factor(paste(d$clinic, d$study_id))
  m <- lmer(nrs_back ~ arm * time + cluster + period * time + (1 | clinic) +
              (1 | clinic:time) + (1 | pid), data = d, REML = TRUE, control = ctrl)
  names <- c(pid = "participant", `clinic:time` = "clinic_time", clinic = "clinic")
} else {
  d$pid <- factor(paste(d$cluster, d$study_id))
  m <- lmer(nrs_back ~ arm * time + (1 | cluster) + (1 | pid), data = d, REML = TRUE,
            control = ctrl)
  names <- c(pid = "participant", cluster = "cluster")
}
fe <- fixef(m)
se <- sqrt(diag(as.matrix(vcov(m))))
for (t in c(3, 6, 12)) {
  key <- paste0("arm:time", t)
  cat(sprintf("estimate_%d %.12g\nse_%d %.12g\n", t, fe[[key]], t, se[[key]]))
}
vc <- as.data.frame(VarCorr(m))
for (i in seq_len(nrow(vc))) {
  grp <- vc$grp[i]
  cat(sprintf("var_%s %.12g\n", if (grp == "Residual") "residual" else names[[grp]], vc$vcov[i]))
}
