"""Pure metric functions: arrays, tensors and callables in, numbers out. One file per metric, a public function that
gathers inputs and a pure function that computes. Nothing here imports the models, the config, the data or the
training layer; evaluation/ feeds the metrics a model and data (a test scans the imports)."""
