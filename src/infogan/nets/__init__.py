"""Plain network modules; models compose them."""
