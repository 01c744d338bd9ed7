"""Typed errors that reach users as PoseTracker `error` messages, never as tracebacks."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Error codes on the wire; PoseTracker's own spelling wherever one exists."""

    MISSING_TOKEN = "missing_token"
    INVALID_TOKEN = "invalid_token"
    QUOTA_EXCEEDED = "quota_exceeded"
    DEVELOPER_FEATURES_NOT_ALLOWED = "developer_features_not_allowed"
    INVALID_EXERCISE = "invalid_exercise"
    JUMP_ANALYSIS_MISSING_HEIGHT = "jump_analysis_missing_height"
    INVALID_PARAMS = "invalid_params"
    REFERENCE_NOT_FOUND = "reference_not_found"
    VIDEO_LOAD_ERROR = "video_load_error"
    IMAGE_LOAD_ERROR = "image_load_error"
    MEDIA_DECODE_ERROR = "media_decode_error"
    MEDIA_TOO_LARGE = "media_too_large"
    UNSUPPORTED_MEDIA_FORMAT = "unsupported_media_format"
    MEDIA_DIMENSIONS_TOO_LARGE = "media_dimensions_too_large"
    VIDEO_TOO_LONG = "video_too_long"
    UPLOAD_NOT_FOUND = "upload_not_found"
    TOO_MANY_UPLOADS = "too_many_uploads"
    ANALYSIS_FAILED = "analysis_failed"
    FEATURE_NOT_SUPPORTED = "feature_not_supported"
    RATE_LIMITED = "rate_limited"


class UptrackError(Exception):
    """An expected failure with a wire code; callers turn it into one `error` message."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
