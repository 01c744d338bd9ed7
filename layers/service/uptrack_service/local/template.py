"""Read template.yaml: CloudFormation short tags become plain dicts, and the parts the local stack needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

_TAGS = ("Ref", "Sub", "GetAtt", "If", "Equals", "Select", "Join", "Split", "FindInMap", "ImportValue", "Not")


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader that reads `!Ref x` as {"Ref": x} (and so on) instead of failing."""


def _construct(tag: str) -> Any:
    def build(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {"Ref" if tag == "Ref" else f"Fn::{tag}": value}

    return build


for _tag in _TAGS:
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


def load_template(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)
    return loaded


@dataclass(frozen=True)
class FunctionSpec:
    """One function: where its handler lives in the repository, and how it is packaged."""

    logical_id: str
    module_path: Path
    attribute: str
    package_type: str
    environment: dict[str, Any] = field(default_factory=dict)
    http_routes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    key: str


def _handler_location(repo: Path, props: dict[str, Any]) -> tuple[Path, str]:
    if props.get("PackageType") == "Image":
        command = str(props["ImageConfig"]["Command"][0])  # "infer_chunk.app.handler"
        package, module, attribute = command.split(".")
        return repo / "functions" / package / f"{module}.py", attribute
    module, attribute = str(props["Handler"]).rsplit(".", 1)
    return repo / str(props["CodeUri"]) / f"{module}.py", attribute


def functions(template: dict[str, Any], repo: Path) -> dict[str, FunctionSpec]:
    found: dict[str, FunctionSpec] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        path, attribute = _handler_location(repo, props)
        routes = tuple(
            (str(event["Properties"]["Method"]).upper(), str(event["Properties"]["Path"]))
            for event in props.get("Events", {}).values()
            if event["Type"] == "HttpApi"
        )
        environment = dict(props.get("Environment", {}).get("Variables", {}))
        found[logical_id] = FunctionSpec(
            logical_id, path, attribute, str(props.get("PackageType", "Zip")), environment, routes
        )
    return found


def global_environment(template: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = template["Globals"]["Function"]["Environment"]["Variables"]
    return variables


def tables(template: dict[str, Any]) -> dict[str, TableSpec]:
    return {
        logical_id: TableSpec(logical_id, str(resource["Properties"]["KeySchema"][0]["AttributeName"]))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }


def state_machine(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(DefinitionUri, DefinitionSubstitutions) of the one state machine."""
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            props = resource["Properties"]
            return str(props["DefinitionUri"]), dict(props.get("DefinitionSubstitutions", {}))
    raise LookupError("no AWS::Serverless::StateMachine in the template")


def s3_rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Function logical id -> the EventBridge pattern of its S3 `Object Created` rule (bucket name left to the
    caller): the validation function (`media/`) and the reference processor (`references/`)."""
    rules: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            pattern = event["Properties"].get("Pattern", {}) if event["Type"] == "EventBridgeRule" else {}
            if pattern.get("source") == ["aws.s3"]:
                rules[logical_id] = pattern
    return rules


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def substitute(text: str, values: dict[str, str]) -> str:
    """Step Functions' DefinitionSubstitutions: every `${Name}` replaced; an unknown name is an error."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no substitution for ${{{name}}}")
        return values[name]

    return _PLACEHOLDER.sub(replace, text)
