"""Metrics: one file per metric, a public function that gathers inputs and a pure function that computes."""
