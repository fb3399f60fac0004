"""Bounded evaluation of what plans write: Jinja2 templates and expressions in a sandbox with
size, time and depth limits, regexes checked before they run, and value helpers shared by the
plan loader and the run."""
