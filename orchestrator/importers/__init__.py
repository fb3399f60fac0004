"""Turning other tools' configurations into plans (`orchestrator import`)."""
