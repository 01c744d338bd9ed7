"""Service settings: one pydantic model, read once from the environment the template (or the local stack) sets.

Every field's environment variable is its alias; `get_settings()` caches the parsed model for the life of the
Lambda container. Tests build `ServiceSettings(...)` directly with python names.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

MIB: Final = 1024 * 1024


class ServiceSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    uploads_bucket: str = Field(alias="UPLOADS_BUCKET", min_length=3)
    uploads_table: str = Field(alias="UPLOADS_TABLE", min_length=3)
    connections_table: str = Field(alias="CONNECTIONS_TABLE", min_length=3)
    tokens_table: str = Field(alias="TOKENS_TABLE", min_length=3)
    tokens_file: Path | None = Field(
        default=None,
        alias="TOKENS_FILE",
        description="The local stack only: tokens in this JSON file, read on every call, instead of the table.",
    )
    max_subscribes_per_connection: int = Field(default=5, alias="MAX_SUBSCRIBES_PER_CONNECTION", ge=1, le=100)
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME")
    state_machine_arn: str = Field(default="", alias="STATE_MACHINE_ARN")
    fetch_function_name: str = Field(default="", alias="FETCH_FUNCTION_NAME")
    websocket_url: str = Field(default="", alias="WEBSOCKET_URL", description="wss:// URL clients connect to.")
    websocket_management_endpoint: str = Field(
        default="", alias="WEBSOCKET_MANAGEMENT_ENDPOINT", description="https://{api}.execute-api.{region}/{stage}"
    )
    upload_url_expiry_s: int = Field(default=300, alias="UPLOAD_URL_EXPIRY_SECONDS", ge=30, le=3600)
    link_expiry_s: int = Field(default=3600, alias="LINK_EXPIRY_SECONDS", ge=60, le=7 * 24 * 3600)
    export_url_expiry_s: int = Field(
        default=3600,
        alias="EXPORT_URL_EXPIRY_SECONDS",
        ge=60,
        le=7 * 24 * 3600,
        description="Lifetime of export_ready's presigned GET (never beyond the signing role's session).",
    )
    max_video_bytes: int = Field(default=500 * MIB, alias="MAX_VIDEO_BYTES", ge=1)
    max_image_bytes: int = Field(default=20 * MIB, alias="MAX_IMAGE_BYTES", ge=1)
    max_video_seconds: float = Field(default=600.0, alias="MAX_VIDEO_SECONDS", gt=0)
    # = uptrack.media.MediaLimits' defaults (a test keeps them equal; the reasons are given there). A photo's
    # pixel limit is the core's alone: photos are checked where they are decoded, in the inference function.
    max_frame_pixels: int = Field(default=8192 * 4352, alias="MAX_FRAME_PIXELS", ge=1)
    max_video_frames: int = Field(default=36_000, alias="MAX_VIDEO_FRAMES", ge=1)
    # = uptrack.chunks.DEFAULT_CHUNK_FRAMES (a test keeps them equal; importing it here would pull OpenCV into
    # the zip functions).
    chunk_frames: int = Field(default=120, alias="CHUNK_FRAMES", ge=8)
    max_chunks: int = Field(default=400, alias="MAX_CHUNKS", ge=1, le=10_000)
    inline_map_max_chunks: int = Field(
        default=40,
        alias="INLINE_MAP_MAX_CHUNKS",
        ge=0,
        le=1000,
        description="Videos of at most this many chunks take the inline Map (no Distributed Map overhead).",
    )
    fetch_timeout_s: float = Field(default=30.0, alias="FETCH_TIMEOUT_SECONDS", gt=0)
    fetch_allow_loopback: bool = Field(default=False, alias="FETCH_ALLOW_LOOPBACK")
    fetch_allowed_ports: str = Field(
        default="80,443", alias="FETCH_ALLOWED_PORTS", description="Comma-separated; '*' allows any port."
    )
    ws_message_limit_bytes: int = Field(default=120_000, alias="WS_MESSAGE_LIMIT_BYTES", ge=1024, le=128 * 1024)
    event_detail_limit_bytes: int = Field(default=200_000, alias="EVENT_DETAIL_LIMIT_BYTES", ge=1024, le=256_000)
    max_subscribers: int = Field(default=20, alias="MAX_SUBSCRIBERS_PER_UPLOAD", ge=1, le=200)
    upload_ttl_days: int = Field(default=30, alias="UPLOAD_TTL_DAYS", ge=1)
    connection_ttl_s: int = Field(default=2 * 3600, alias="CONNECTION_TTL_SECONDS", ge=60)
    models_dir: Path | None = Field(default=None, alias="UPTRACK_MODELS_DIR")
    inference_threads: int = Field(default=1, alias="INFERENCE_THREADS", ge=1, le=16)
    get_messages_budget_bytes: int = Field(default=4 * MIB, alias="GET_MESSAGES_BUDGET_BYTES", ge=64 * 1024)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceSettings:
        return cls.model_validate(dict(os.environ if environ is None else environ))

    def allowed_ports(self) -> frozenset[int] | None:
        """None means any port; otherwise the listed ports."""
        if self.fetch_allowed_ports.strip() == "*":
            return None
        return frozenset(int(p) for p in self.fetch_allowed_ports.split(",") if p.strip())


@functools.cache
def get_settings() -> ServiceSettings:
    """The settings of this process, parsed on first use."""
    return ServiceSettings.from_env()
