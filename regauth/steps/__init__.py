"""One module per handshake step. Each `run(check)` returns a StepResult and records diagnoses on the check."""
