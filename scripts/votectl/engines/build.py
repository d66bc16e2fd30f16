"""Build the pinned engines with the ordinary `go` command into a git-ignored cache, once.

Each binary has a stamp: the hash of everything its build depends on (the wrapper's go.mod and go.sum, our
Go sources there, the package, the ldflags, the Go version). A binary whose stamp matches is not rebuilt,
so a second `votectl engines build` returns in about a second; a changed pin rebuilds exactly what it pins.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from votectl.engines.catalog import Engine, engines
from votectl.errors import VotectlError
from votectl.repo import Repo

CACHE_ENV = "VOTECTL_ENGINES"
MIN_GO = (1, 26)


def cache_dir(repo: Repo | None = None) -> Path:
    """`.engines/` of the checkout, or wherever VOTECTL_ENGINES points."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).resolve() if override else (repo or Repo.current()).root / ".engines"


def go_binary() -> str:
    """The Go toolchain, refused in one line when it is missing or too old."""
    go = shutil.which("go")
    if go is None:
        raise VotectlError(
            "the engines are built from Go modules and `go` is not on PATH: install Go 1.26 or newer"
        )
    return go


def go_version(go: str) -> str:
    result = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    version = result.stdout.strip()
    numbers = tuple(int(part) for part in version.removeprefix("go").split(".")[:2] if part.isdigit())
    if result.returncode != 0 or len(numbers) < 2:
        raise VotectlError(f"`go env GOVERSION` failed: {' '.join(result.stderr.split()) or version}")
    if numbers < MIN_GO:
        raise VotectlError(f"the engines need Go {'.'.join(map(str, MIN_GO))} or newer, found {version}")
    return version


def go_environment() -> dict[str, str]:
    """Static binaries, and go.mod/go.sum used as committed (a build never edits the pins)."""
    flags = " ".join(part for part in (os.environ.get("GOFLAGS", ""), "-mod=readonly") if part)
    return {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": flags}


def stamp(engine: Engine, version: str) -> str:
    digest = hashlib.sha256()
    for part in (engine.package, " ".join(engine.ldflags), version):
        digest.update(part.encode() + b"\0")
    for path in [engine.module_dir / "go.mod", engine.module_dir / "go.sum", *engine.go_files()]:
        digest.update(path.relative_to(engine.module_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(missing)")
    return digest.hexdigest()


@dataclass(frozen=True)
class State:
    engine: Engine
    binary: Path
    built: bool  # a binary is there
    fresh: bool  # and its stamp matches the current pins


def states(
    names: list[str] | None = None, repo: Repo | None = None, version: str | None = None
) -> list[State]:
    """Where each engine stands; `version` (the Go version) is needed to tell fresh from stale."""
    repo = repo or Repo.current()
    known = engines(repo)
    chosen = names or list(known)
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise VotectlError(f"unknown engine {', '.join(unknown)}: choose from {', '.join(known)}")
    bin_dir = cache_dir(repo) / "bin"
    result = []
    for name in dict.fromkeys(chosen):
        engine = known[name]
        binary = bin_dir / name
        stamp_file = bin_dir / f"{name}.stamp"
        built = binary.is_file() and stamp_file.is_file()
        fresh = built and version is not None and stamp_file.read_text() == stamp(engine, version)
        result.append(State(engine, binary, built, fresh))
    return result


Progress = Callable[[str], None]


def build(
    names: list[str] | None = None, repo: Repo | None = None, progress: Progress | None = None
) -> list[State]:
    """Build what is missing or stale, one engine at a time (go parallelises inside a build)."""
    repo = repo or Repo.current()
    go = go_binary()
    version = go_version(go)
    say = progress or (lambda _message: None)
    result = []
    for state in states(names, repo, version):
        if not state.fresh:
            started = time.monotonic()
            say(f"building {state.engine.name} {state.engine.version or '(ours)'} ...")
            _go_build(go, state.engine, state.binary)
            state.binary.with_name(f"{state.engine.name}.stamp").write_text(stamp(state.engine, version))
            say(f"built {state.engine.name} in {time.monotonic() - started:.0f} s")
            state = State(state.engine, state.binary, built=True, fresh=True)
        result.append(state)
    return result


def _go_build(go: str, engine: Engine, binary: Path) -> None:
    """Into a temporary name first: an interrupted or failed build never leaves a binary that looks built."""
    binary.parent.mkdir(parents=True, exist_ok=True)
    partial = binary.with_name(f".{binary.name}.partial")
    command = [
        go,
        "build",
        "-trimpath",
        "-ldflags",
        " ".join(["-s", "-w", *(f"-X {f}" for f in engine.ldflags)]),
    ]
    command += ["-o", str(partial), engine.package]
    try:
        result = subprocess.run(
            command, cwd=engine.module_dir, env=go_environment(), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            raise VotectlError(f"go build of {engine.name} failed: {' | '.join(lines[-3:]) or 'no output'}")
        partial.replace(binary)
    finally:
        partial.unlink(missing_ok=True)


def path(name: str, repo: Repo | None = None) -> Path:
    """The built binary of an engine, refused with the command that builds it when missing or stale."""
    go = shutil.which("go")
    [state] = states([name], repo, go_version(go) if go else None)
    if not state.built:
        raise VotectlError(f"engine {name} is not built: run `votectl engines build {name}`")
    if go and not state.fresh:
        raise VotectlError(f"engine {name} is older than its pins: run `votectl engines build {name}`")
    return state.binary


def module_dir(engine: Engine) -> Path:
    """Where the Go module cache holds the module an engine is built from (its non-Go files: stage
    configs, CRDs); read-only, verified against the wrapper's go.sum."""
    return download(engine.module_dir, [engine.module])[engine.module]


def download(wrapper: Path, modules: list[str]) -> dict[str, Path]:
    """module -> its unpacked folder in the module cache, at the version the wrapper pins."""
    import json

    go = go_binary()
    result = subprocess.run(
        [go, "mod", "download", "-json", *modules],
        cwd=wrapper,
        env=go_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    found: dict[str, Path] = {}
    decoder = json.JSONDecoder()
    text, index = result.stdout, 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        item, index = decoder.raw_decode(text, index)
        if item.get("Error") or not item.get("Dir"):
            raise VotectlError(f"go mod download {item.get('Path')}: {item.get('Error') or 'no folder'}")
        found[item["Path"]] = Path(item["Dir"])
    if result.returncode != 0 or set(found) != set(modules):
        detail = " ".join(result.stderr.split()) or f"got {', '.join(found) or 'nothing'}"
        raise VotectlError(f"go mod download in {wrapper.name} failed: {detail}")
    return found
