"""One chunk size everywhere: the template's default, the service settings and the CLI's pipeline."""

from __future__ import annotations

from uptrack.chunks import DEFAULT_CHUNK_FRAMES
from uptrack_service.local.template import load_template
from uptrack_service.settings import ServiceSettings

from tests.support.paths import REPO


def test_template_settings_and_cli_share_the_chunk_size() -> None:
    template = load_template(REPO / "template.yaml")
    assert template["Parameters"]["ChunkFrames"]["Default"] == DEFAULT_CHUNK_FRAMES
    assert ServiceSettings.model_fields["chunk_frames"].default == DEFAULT_CHUNK_FRAMES
