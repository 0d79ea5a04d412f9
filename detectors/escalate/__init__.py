"""Escalate: act on alerts through playbooks (webhooks, commands) once per alert per action, and the
pause gate (`pause_gate.py`: the append-only `control` table). `run.py` is the stage's run."""
