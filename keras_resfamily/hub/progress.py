"""A dependency-free text progress bar for downloads (stderr)."""

import sys
import time

WIDTH = 30


class ProgressBar:
    def __init__(self, label, enabled=True, stream=None, min_interval=0.1):
        self.label, self.enabled = label, enabled
        self.stream = stream or sys.stderr
        self.min_interval = min_interval
        self._last = 0.0
        self._shown = False

    def update(self, done, total):
        now = time.monotonic()
        if not self.enabled or (now - self._last < self.min_interval and done != total):
            return
        self._last = now
        mb = f"{done / 1e6:.1f}" + (f"/{total / 1e6:.1f} MB" if total else " MB")
        if total:
            filled = int(WIDTH * done / total)
            line = f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {100 * done // total:3d}% {mb}"
        else:
            line = f"\r{self.label} {mb}"
        self.stream.write(line)
        self.stream.flush()
        self._shown = True

    def interrupted(self, why):
        if self.enabled:
            self.stream.write(f"\n{self.label}: interrupted {why}; resuming\n")
            self._shown = False

    def finish(self):
        if self.enabled and self._shown:
            self.stream.write("\n")
            self.stream.flush()
