"""`UploadStore` over DynamoDB: one item per upload, every state change one conditional UpdateItem.

`reserve` is the idempotency point of delivery: `SET stage_start.#s = next_seq, next_seq = next_seq + :n`
under `attribute_not_exists(stage_start.#s)` hands each stage one `seq` range forever, so a retried Lambda or a
duplicated event re-sends the same seqs (subscribers drop what they have) instead of new ones. It returns the
subscriber set in the same atomic read, which is what makes live push + replay gap-free (see subscriptions.py).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError
from uptrack.contract.errors import ErrorCode, UptrackError

from uptrack_service.adapters.dynamodb_conditions import condition_failed, update_if
from uptrack_service.models import OPEN, ReferenceClip, Reservation, Status, UploadKind, UploadRecord

KEY: Final = "upload_id"


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    return {"S": str(value)}


def _numbers(mapping: Mapping[str, int]) -> dict[str, Any]:
    return {"M": {name: {"N": str(number)} for name, number in mapping.items()}}


def _to_item(record: UploadRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        KEY: {"S": record.upload_id},
        "kind": {"S": record.kind.value},
        "token_hash": {"S": record.token_hash},
        "token_id": {"S": record.token_id},
        "request": {"S": json.dumps(record.request, sort_keys=True)},
        "source": {"S": record.source},
        "object_key": {"S": record.object_key},
        "content_type": {"S": record.content_type},
        "max_bytes": {"N": str(record.max_bytes)},
        "status": {"S": record.status.value},
        "created_at": {"S": record.created_at.isoformat()},
        "expires_at": {"N": str(record.expires_at)},
        "next_seq": {"N": str(record.next_seq)},
        "stage_start": _numbers(record.stage_start),
        "stage_count": _numbers(record.stage_count),
        "frames_done": {"N": str(record.frames_done)},
    }
    if record.subscribers:
        item["subscribers"] = {"SS": sorted(record.subscribers)}
    for name in ("frames_total", "chunk_count", "error_code"):
        value = getattr(record, name)
        if value is not None:
            item[name] = _value(value)
    if record.clip is not None:
        item["clip"] = {"S": record.clip.model_dump_json()}
    return item


def _int_map(item: dict[str, Any], name: str) -> dict[str, int]:
    return {key: int(value["N"]) for key, value in item.get(name, {"M": {}})["M"].items()}


def _optional_int(item: dict[str, Any], name: str) -> int | None:
    return int(item[name]["N"]) if name in item and "N" in item[name] else None


def _from_item(item: dict[str, Any]) -> UploadRecord:
    return UploadRecord(
        upload_id=item[KEY]["S"],
        kind=UploadKind(item["kind"]["S"]),
        token_hash=item["token_hash"]["S"],
        token_id=item["token_id"]["S"],
        request=json.loads(item["request"]["S"]),
        source=item["source"]["S"],
        object_key=item["object_key"]["S"],
        content_type=item["content_type"]["S"],
        max_bytes=int(item["max_bytes"]["N"]),
        status=Status(item["status"]["S"]),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        expires_at=int(item["expires_at"]["N"]),
        next_seq=int(item["next_seq"]["N"]),
        stage_start=_int_map(item, "stage_start"),
        stage_count=_int_map(item, "stage_count"),
        frames_done=int(item.get("frames_done", {"N": "0"})["N"]),
        frames_total=_optional_int(item, "frames_total"),
        chunk_count=_optional_int(item, "chunk_count"),
        subscribers=frozenset(item.get("subscribers", {"SS": []})["SS"]),
        error_code=item["error_code"]["S"] if "S" in item.get("error_code", {}) else None,
        clip=ReferenceClip.model_validate_json(item["clip"]["S"]) if "S" in item.get("clip", {}) else None,
    )


class DynamoDbUploadStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _key(self, upload_id: str) -> dict[str, Any]:
        return {KEY: {"S": upload_id}}

    def create(self, record: UploadRecord) -> None:
        self._client.put_item(
            TableName=self._table, Item=_to_item(record), ConditionExpression=f"attribute_not_exists({KEY})"
        )

    def get(self, upload_id: str) -> UploadRecord | None:
        response = self._client.get_item(TableName=self._table, Key=self._key(upload_id), ConsistentRead=True)
        return _from_item(response["Item"]) if "Item" in response else None

    def open_before(self, cutoff: datetime, statuses: Iterable[Status]) -> list[UploadRecord]:
        """The sweeper's query: a filtered Scan (the table holds at most `UPLOAD_TTL_DAYS` of uploads; a Scan reads
        every item, which docs/performance.md prices). `created_at` is ISO-8601 UTC, so strings order as times."""
        wanted = [status.value for status in statuses]
        values: dict[str, Any] = {f":s{i}": {"S": value} for i, value in enumerate(wanted)}
        values[":cutoff"] = {"S": cutoff.isoformat()}
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression=f"#status IN ({', '.join(f':s{i}' for i in range(len(wanted)))}) AND created_at < :cutoff",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
        return [_from_item(item) for page in pages for item in page.get("Items", [])]

    def transition(
        self, upload_id: str, to: Status, allowed_from: Collection[Status], fields: Mapping[str, Any] | None = None
    ) -> bool:
        names = {"#status": "status"}
        values: dict[str, Any] = {":to": {"S": to.value}}
        sets = ["#status = :to"]
        for i, (name, value) in enumerate((fields or {}).items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = _value(value)
            sets.append(f"#f{i} = :f{i}")
        allowed = []
        for i, status in enumerate(allowed_from):
            values[f":a{i}"] = {"S": status.value}
            allowed.append(f":a{i}")
        return update_if(
            self._client,
            TableName=self._table,
            Key=self._key(upload_id),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=f"attribute_exists({KEY}) AND #status IN ({', '.join(allowed)})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def reserve(self, upload_id: str, stage: str, count: int, frames: int = 0, while_open: bool = False) -> Reservation:
        names = {"#stage": stage}
        values: dict[str, Any] = {":count": {"N": str(count)}, ":frames": {"N": str(frames)}}
        condition = f"attribute_exists({KEY}) AND attribute_not_exists(stage_start.#stage)"
        if while_open:
            names["#status"] = "status"
            values.update({f":open{i}": {"S": status.value} for i, status in enumerate(OPEN)})
            condition += f" AND #status IN ({', '.join(f':open{i}' for i in range(len(OPEN)))})"
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(upload_id),
                UpdateExpression=(
                    "SET stage_start.#stage = next_seq, stage_count.#stage = :count, next_seq = next_seq + :count"
                    " ADD frames_done :frames"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            return self._refused(upload_id, stage, count)
        record = _from_item(response["Attributes"])
        return Reservation(
            start=record.stage_start[stage], count=count, subscribers=record.subscribers, frames_done=record.frames_done
        )

    def _refused(self, upload_id: str, stage: str, count: int) -> Reservation:
        """Why the reservation's condition failed: no upload, a repeated stage, or (the only other way) an ended one."""
        record = self.get(upload_id)
        if record is None:
            raise UptrackError(ErrorCode.UPLOAD_NOT_FOUND, "No such upload.") from None
        if stage not in record.stage_start:
            return Reservation.nothing(record)
        return Reservation(
            start=record.stage_start[stage],
            count=record.stage_count.get(stage, count),
            subscribers=record.subscribers,
            frames_done=record.frames_done,
            fresh=False,
        )

    def subscribe(self, upload_id: str, connection_id: str, limit: int) -> bool:
        return update_if(
            self._client,
            TableName=self._table,
            Key=self._key(upload_id),
            UpdateExpression="ADD subscribers :connection",
            ConditionExpression=(
                f"attribute_exists({KEY}) AND (attribute_not_exists(subscribers) OR size(subscribers) < :limit"
                " OR contains(subscribers, :id))"
            ),
            ExpressionAttributeValues={
                ":connection": {"SS": [connection_id]},
                ":id": {"S": connection_id},
                ":limit": {"N": str(limit)},
            },
        )

    def unsubscribe(self, upload_id: str, connection_id: str) -> None:
        update_if(
            self._client,
            TableName=self._table,
            Key=self._key(upload_id),
            UpdateExpression="DELETE subscribers :connection",
            ConditionExpression=f"attribute_exists({KEY})",
            ExpressionAttributeValues={":connection": {"SS": [connection_id]}},
        )
