"""``nba_props.<macro>()`` calls made from inside the project's own macros (the jinja templater
loads the macros themselves, but not under the package's name): the run window of a lint render
is none (no run_date), as in a plain build."""


def run_window_start():
    return None


def partition_floor():
    return "1900-01-01"
