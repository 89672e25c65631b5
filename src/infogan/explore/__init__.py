"""`infogan explore`: a local web page to explore trained runs (HTTP API in server.py, the run side in session.py,
the page in static/). No training logic."""
