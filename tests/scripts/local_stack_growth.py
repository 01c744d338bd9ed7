"""What `uptrack serve` keeps as uploads go through it: resident memory and files in the temp folder per upload.

Starts `uptrack serve` (own UPTRACK_HOME, free port), runs N `uptrack upload`s of one clip one after another and
prints, after each, the server's RSS and how many entries it left in its temp folder (TMPDIR is a fresh folder).

    .venv/bin/python tests/scripts/local_stack_growth.py --uploads 20 [--clip samples/squat_rear_2reps_cc-by-3.0.mp4]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS:")).split()[1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--clip", type=Path, default=Path("samples/squat_rear_2reps_cc-by-3.0.mp4"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "UPTRACK_HOME": home, "TMPDIR": tmp}
        server = subprocess.Popen([*UPTRACK, "serve", "--port", "0"], env=env, stdout=subprocess.DEVNULL)
        try:
            info = Path(home) / "local-stack.json"
            while not info.exists():
                if server.poll() is not None:
                    return 1
                time.sleep(0.1)
            json.loads(info.read_text())
            print(f"upload  rss_mib  temp_entries  seconds  (started: rss {rss_mib(server.pid):.0f} MiB)")
            for number in range(1, args.uploads + 1):
                began = time.monotonic()
                done = subprocess.run(
                    [*UPTRACK, "upload", str(args.clip), "--exercise", "squat"], env=env, capture_output=True
                )
                if done.returncode != 0:
                    print(done.stderr.decode()[-500:], file=sys.stderr)
                    return 1
                entries = sum(1 for _ in Path(tmp).rglob("*"))
                print(f"{number:6d}  {rss_mib(server.pid):7.0f}  {entries:12d}  {time.monotonic() - began:7.1f}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
