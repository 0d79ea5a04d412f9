"""Risk: six dimensions measured per agent and day, the framework's two matrices and their controls
(`controls.yml`), declared-vs-observed gaps as findings and alerts. `run.py` is the stage's run."""
