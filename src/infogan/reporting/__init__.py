"""Pages and tables about runs: the HTML report of one run (report.py), the compare table of several
(compare.py) and its page (compare_page.py), and the pieces every page is made of (html.py)."""
