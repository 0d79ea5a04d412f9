"""Metrics: the SQL models (staging -> intermediate -> marts) that turn `events` into `steps` and
`sessions`, with what they need as inputs: entities, tool categories, the inventory as tables and the
approvals' verified outcomes. `run.py` is the stage's run (incremental); `parallel.py` splits it."""
