"""Child processes of an end-to-end test: started in their own process group, output captured
line by line (stdout kept for waiting on, both streams written to a log file), stopped as a
group.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO


class ProcError(AssertionError):
    """A child process did not do what the test waited for (it exited, or time ran out)."""


class Proc:
    """One child process. ``lines`` holds its stdout lines as they arrive."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdin_text: str | None = None,
        stdin_open: bool = False,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._log = log_path.open("a", encoding="utf-8", errors="replace")
        self._log.write(f"$ {' '.join(self.argv)}\n")
        self._log.flush()
        self.popen = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin_text is not None or stdin_open else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
            text=True,
            errors="replace",
            bufsize=1,
        )
        self.pid = self.popen.pid
        if stdin_text is not None:
            assert self.popen.stdin is not None
            self.popen.stdin.write(stdin_text)
            self.popen.stdin.close()
        assert self.popen.stdout is not None and self.popen.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.popen.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.popen.stderr, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], keep: bool) -> None:
        tag = "out" if keep else "err"
        for raw in stream:
            line = raw.rstrip("\n")
            with self._cond:
                if not self._log.closed:
                    self._log.write(f"[{time.monotonic():.3f} {tag}] {line}\n")
                    self._log.flush()
                if keep:
                    self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def write_line(self, text: str) -> None:
        """Type one line on the process's standard input (started with ``stdin_open``)."""
        assert self.popen.stdin is not None, f"{self.name} has no standard input to write to"
        self.popen.stdin.write(text + "\n")
        self.popen.stdin.flush()

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def wait_for_line(self, pattern: str, timeout: float, *, start: int = 0) -> re.Match[str]:
        """Wait until a stdout line (from index ``start`` on) matches the regex ``pattern``."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        index = start
        with self._cond:
            while True:
                while index < len(self.lines):
                    match = regex.search(self.lines[index])
                    index += 1
                    if match:
                        return match
                if self.popen.poll() is not None and not any(r.is_alive() for r in self._readers):
                    raise ProcError(
                        f"{self.name} exited with {self.popen.returncode} before printing "
                        f"{pattern!r}; output:\n{self.output()}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProcError(
                        f"{self.name} did not print {pattern!r} within {timeout} s; "
                        f"output:\n{self.output()}"
                    )
                self._cond.wait(min(left, 0.2))

    def wait_exit(self, timeout: float) -> int:
        """Wait for the process to exit by itself and its output to be read; return its code."""
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ProcError(
                f"{self.name} still running after {timeout} s; output:\n{self.output()}"
            ) from None
        for reader in self._readers:
            reader.join(5)
        return code

    def signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            os.kill(self.pid, signum)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the whole process group, SIGKILL what is left after ``timeout``."""
        _kill_group(self.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        # Whatever else is left in the group (children of the child) goes too.
        _kill_group(self.pid, signal.SIGKILL)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        for reader in self._readers:
            reader.join(2)
        for stream in (self.popen.stdout, self.popen.stderr, self.popen.stdin):
            if stream is not None and not any(r.is_alive() for r in self._readers):
                stream.close()
        with self._cond:
            if not self._log.closed:
                self._log.write(f"[exit {self.popen.returncode}]\n")
                self._log.close()

    def output(self) -> str:
        """Everything the process printed so far (both streams, as logged)."""
        with self._cond:
            if not self._log.closed:
                self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _kill_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class Procs:
    """Every process a test started; ``stop_all`` ends them in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Proc] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdin_text: str | None = None,
        stdin_open: bool = False,
        pass_fds: Sequence[int] = (),
    ) -> Proc:
        log_path = self.log_dir / f"{len(self.started):02d}-{name}.log"
        proc = Proc(
            name,
            argv,
            log_path,
            env=env,
            cwd=cwd,
            stdin_text=stdin_text,
            stdin_open=stdin_open,
            pass_fds=pass_fds,
        )
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()

    def dump(self) -> str:
        """All logs, for a failed test's report."""
        parts = []
        for proc in self.started:
            parts.append(f"----- {proc.name} (pid {proc.pid}) -----\n{proc.output()}")
        return "\n".join(parts)
