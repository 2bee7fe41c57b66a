"""A simulated kill of training, shared by the library and command-line resume tests."""

import wgf.train


class Crash(Exception):
    pass


def crash_after(monkeypatch, step: int) -> None:
    """Make the checkpoint writer "kill" training right after saving the state of ``step``."""
    save = wgf.train._save_state

    def save_then_crash(path, state):
        save(path, state)
        if state["step"] == step:
            raise Crash

    monkeypatch.setattr(wgf.train, "_save_state", save_then_crash)
