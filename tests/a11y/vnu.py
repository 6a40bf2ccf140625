"""The Nu HTML Checker (vnu), run ONCE over a folder of saved pages.

vnu.jar is the pinned npm tarball `vnu-jar` fetched and integrity-checked by scripts/vnu.sh
(VNU_JAR), run on Debian's default-jre-headless. `check(paths)` starts one JVM for all the files
and returns its messages (`--format json`), each tied back to the page it comes from."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

VNU_VERSION_EXPECTED = "26.9.27"  # scripts/vnu.sh


@dataclass(frozen=True)
class Message:
    path: Path
    type: str  # "error", "info" (subType "warning" for warnings) or "non-document-error"
    sub_type: str | None
    line: int | None
    text: str
    extract: str

    @property
    def is_error(self) -> bool:
        # vnu's "fatal" subType is an error too; a non-document-error means a file it could not read.
        return self.type in ("error", "non-document-error")

    @property
    def is_warning(self) -> bool:
        return self.type == "info" and self.sub_type == "warning"

    def line_for(self, label: str) -> str:
        where = f"{label}:{self.line}" if self.line else label
        extract = " ".join(self.extract.split())
        return f"- {where}: {self.text}" + (f"\n    {extract}" if extract else "")


def vnu_command() -> list[str]:
    """java -jar vnu.jar, or a loud failure: a missing checker must never pass as a valid page."""
    jar = os.environ.get("VNU_JAR")
    if not jar or not os.path.exists(jar):
        pytest.fail("VNU_JAR is not set: run through scripts/test.sh (it fetches vnu-jar and installs Java)")
    java = shutil.which("java")
    if java is None:
        pytest.fail("java is missing: scripts/test.sh installs default-jre-headless")
    return [java, "-Xss8m", "-jar", jar]


def version() -> str:
    return subprocess.run([*vnu_command(), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def check(paths: list[Path]) -> list[Message]:
    """One run of the checker over every file; warnings included (--format json on stdout)."""
    result = subprocess.run(
        [*vnu_command(), "--format", "json", "--stdout", "--exit-zero-always", *map(str, paths)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        pytest.fail(f"vnu did not run (exit {result.returncode}): {result.stderr.strip()[:2000]}")
    messages = []
    for m in json.loads(result.stdout)["messages"]:
        messages.append(Message(
            path=Path(unquote(urlparse(m.get("url", "")).path)), type=m.get("type", ""), sub_type=m.get("subType"),
            line=m.get("lastLine"), text=m.get("message", ""), extract=m.get("extract", ""),
        ))
    return messages


def report(messages: list[Message], labels: dict[Path, str]) -> str:
    """One line per message, grouped by the page it comes from (its label, e.g. « GET /mairie/ (agent) »)."""
    lines = []
    for m in sorted(messages, key=lambda m: (labels.get(m.path, str(m.path)), m.line or 0)):
        lines.append(m.line_for(labels.get(m.path, str(m.path))))
    return "\n".join(lines)
