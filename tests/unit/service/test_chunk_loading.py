"""The aggregator's chunk loading: a missing chunk is a typed analysis failure, not a crash."""

from __future__ import annotations

import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack_service.adapters.memory import (
    MemoryObjectStore,
)
from uptrack_service.keys import chunk_key
from uptrack_service.models import ChunkItem
from uptrack_service.pipeline.aggregation import load_series

from tests.support.service_world import UPLOAD


def test_a_missing_chunk_is_a_typed_analysis_failure() -> None:
    objects = MemoryObjectStore()
    items = [ChunkItem(index=i, start=60 * i, stop=60 * (i + 1), key=chunk_key(UPLOAD, i)) for i in range(2)]
    with pytest.raises(UptrackError) as raised:
        load_series(objects, items)
    assert raised.value.code is ErrorCode.ANALYSIS_FAILED
