"""The trained router: features, the calibrated classifier, thresholds, artifacts, metrics."""
