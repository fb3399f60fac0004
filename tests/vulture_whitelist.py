"""What vulture (60 % confidence over orchestrator/) reports as unused but is not: reviewed by hand.

`tests/unit/test_dead_code.py` runs vulture with this file; anything new it reports is either
dead code to delete or belongs here, with the reason it is used.
"""
# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

_ = object()

# Called by a library, not by us.
_.ignore_aliases  # yaml.SafeDumper hook (importers/promptfoo.py): PyYAML calls it while dumping
_.http_open  # urllib.request handler protocol (run/http_deadline.py): urllib dispatches by name
_.https_open  # ditto
_.makefile  # socket protocol (run/http_deadline.py): http.client calls sock.makefile()
_._create_connection  # http.client.HTTPConnection attribute (run/http_deadline.py): connect() calls it
_._io_refs  # socket protocol: socket.SocketIO reads it when closing the file it made
intercepted_binops  # jinja2 SandboxedEnvironment class attribute (sandbox.py)
template_class  # jinja2 Environment class attribute (sandbox.py)
_.call_binop  # jinja2 SandboxedEnvironment hook for the intercepted operators (sandbox.py)
_.__doc__  # records.record sets a class docstring so that dataclasses does not build one with inspect
_.__annotations__  # records.record gives __init__ the annotations dataclass gives it (inspect.signature shows them)

# libyaml's composer calls these on its loader (plan/yaml_load.py FastCLoader: resolving paths is a no-op).
descend_resolver
ascend_resolver

# Step action tables read by name when their module is first needed (run/actions.py).
HTTP_ACTIONS
LOAD_ACTIONS
PROCESS_ACTIONS

# Parameters a caller's signature fixes.
current_node  # yaml_load FastCLoader.descend_resolver, as libyaml calls it
current_index
frame  # signal handler signature (interrupts.py)
exc_type  # context manager __exit__ signature (result/journal.py)
__self  # jinja2 call() signature (sandbox.py)
fill_with  # the jinja2 batch/slice filters' signature, mirrored by their size checks (sandbox_limits.py)

# Dataclass fields serialised into results.json / pool statistics by field name.
warm_p50_ms  # procs/api.py SlotStats: read by run/pool_stats.py through dataclasses.asdict

# Public helpers whose callers are tests and benchmarks (the reports' own entry points).
render_html  # report/html.py: the page as one string (write_html streams the same page)
unpack_json  # report/html.py: reads back the packed case details the page carries
results_schema  # report/json_report.py: the published schema of results.json
write_reports  # report/writers.py: write_all's list-of-problems form (benchmarks/report_render.py)
# Typed fields of the step records (result/step_fields.py) that no module reads by attribute yet:
# each record declares its action's whole vocabulary (plan/fields.STEP_FIELDS, kept equal by
# tests/unit/report/test_step_fields.py); plans read these by name in `expr`.
ready_ms
waited_ms
errors_by_type
correlation
error_samples
tokenUsage
