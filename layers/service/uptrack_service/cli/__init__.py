"""The `uptrack` command line: the entry point, its subcommands and the HTTP/WebSocket client it uses.

A command line reports problems in its own words (typed `error`/`warning` messages), so the decoders' own notes
(FFmpeg's "[h264 @ …] Invalid NAL unit size", OpenCV's "[ WARN:0 …]") are silenced here, before OpenCV loads in
this process or in the analysis workers it starts (they inherit the environment). A value set by the user wins.
"""

import os

os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
