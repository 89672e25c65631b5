"""Figures: functions return tensors or matplotlib figures; callers decide where to write them."""
