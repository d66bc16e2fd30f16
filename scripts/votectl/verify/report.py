"""The gate's three outputs: a table for people, JSON and JUnit XML for CI."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from votectl.verify.gate import Report

_LOG_WIDTH = 200


def summary(report: Report) -> str:
    errors = sum(finding.severity == "error" for finding in report.findings)
    others = len(report.findings) - errors
    objects = sum(len(result.objects) for result in report.results)
    envs = ", ".join(result.env for result in report.results)
    verdict = "OK" if report.ok else "FAILED"
    return (
        f"verify {verdict}: {envs}: {objects} objects, {errors} errors, {others} warnings/info, "
        f"{len(report.exemptions)} exemptions in force"
    )


def to_json(report: Report) -> str:
    return json.dumps(
        {
            "envs": [
                {"env": result.env, "rules": result.rules, "objects": len(result.objects)}
                for result in report.results
            ],
            "findings": [finding.as_dict() for finding in report.findings],
            "exemptions": [asdict(exemption) for exemption in report.exemptions],
            "ok": report.ok,
        },
        indent=2,
    )


def to_junit(report: Report) -> str:
    """One testsuite per env, one testcase per object, one failure per error finding on it."""
    from xml.etree import ElementTree as ET

    root = ET.Element("testsuites", name="votectl verify")
    for result in report.results:
        by_object: dict[tuple[str, str], list] = {key: [] for key in result.objects}
        for finding in result.findings:
            by_object.setdefault((finding.kind, finding.name), []).append(finding)
        failing = sum(any(f.severity == "error" for f in found) for found in by_object.values())
        suite = ET.SubElement(
            root, "testsuite", name=result.env, tests=str(len(by_object)), failures=str(failing)
        )
        for (kind, name), found in by_object.items():
            case = ET.SubElement(suite, "testcase", classname=result.env, name=f"{kind}/{name}")
            for finding in found:
                if finding.severity == "error":
                    element = ET.SubElement(case, "failure", type=finding.rule, message=finding.message)
                else:
                    element = ET.SubElement(case, "system-out")
                element.text = f"[{finding.rule}] {finding.message}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def print_table(report: Report) -> None:
    """A table per env with findings, then the exemptions in force, then the one-line summary."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # CI logs are not terminals: rich would wrap at 80 columns, which splits paths and messages
    console = Console(width=None if sys.stdout.isatty() else _LOG_WIDTH)
    for result in report.results:
        title = result.env if result.env == result.rules else f"{result.env} ({result.rules} rules)"
        if not result.findings:
            console.print(Text(f"{title}: {len(result.objects)} objects, no findings", style="green"))
            continue
        table = Table(title=Text(title), title_justify="left")
        for column in ("env", "kind/name", "rule", "message"):
            table.add_column(column, overflow="fold")
        for finding in result.findings:
            style = "red" if finding.severity == "error" else "yellow"
            table.add_row(
                Text(finding.env),
                Text(f"{finding.kind}/{finding.name}"),
                Text(finding.rule, style=style),
                Text(finding.message),
            )
        console.print(table)
    if report.exemptions:
        exemptions = Table(title=Text("exemptions in force"), title_justify="left")
        for column in ("kind/name", "policies", "until", "reason"):
            exemptions.add_column(column, overflow="fold")
        for item in report.exemptions:
            exemptions.add_row(
                Text(f"{item.kind}/{item.name}"),
                Text(", ".join(item.policies)),
                Text(item.until),
                Text(item.reason),
            )
        console.print(exemptions)
    console.print(
        summary(report), style="bold green" if report.ok else "bold red", markup=False, soft_wrap=True
    )
